"""Readers: one per file format, each turning a file into CellRecords (see base.py)."""
