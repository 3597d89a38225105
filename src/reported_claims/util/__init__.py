"""Helpers that know nothing of records: the lowest layer."""
