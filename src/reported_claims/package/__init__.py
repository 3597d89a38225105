"""The published data package: its tables and schemas, and building, reading, comparing,
releasing and exporting it."""

DESCRIPTOR = "datapackage.json"
"""The file name of a data package's descriptor."""
DATA = "data"
"""The folder of a data package's CSV and JSON files, beside the descriptor."""
SCHEMA_DIR = "schema"
"""The folder of the generated JSON Schemas and Table Schemas, at the repository's root."""
