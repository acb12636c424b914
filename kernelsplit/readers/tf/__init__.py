"""The TensorFlow family: SavedModel folders and TF V2 checkpoints, decoded without TensorFlow
(protobuf wire format, crc32c, SSTable, TensorBundle, object graph, Keras metadata)."""
