"""Versions: an item's published versions and the changes feed, field by field."""
