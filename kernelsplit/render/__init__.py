"""Renderers: one per output format, all fed the same Artifact objects."""
