"""The published data package: its tables and schemas, and building, reading, comparing,
releasing and exporting it."""

DESCRIPTOR = "datapackage.json"
"""The file name of a data package's descriptor."""
DATA = "data"
"""The folder of a data package's CSV and JSON files, beside the descriptor."""
