"""The data version: semver of the published data package (see RELEASING in the README)."""

__version__ = "0.1.0"
