"""The ``cqgis`` command line: one module per subcommand, like rasterio's ``rio``."""
