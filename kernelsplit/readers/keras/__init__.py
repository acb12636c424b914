"""The Keras file family: HDF5 (legacy full model, ``save_weights``, Keras 0.x, Keras 3 v3 store),
``.keras`` zips and folders, and sharded Keras 3 weights. docs/formats.md has each layout."""
