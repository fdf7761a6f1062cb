"""Thematic layers: schemas, the embedded reference data and loaders for users' files."""
