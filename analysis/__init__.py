"""Spatial analysis: attribution, coverage, water quality, compliance and the river network."""
