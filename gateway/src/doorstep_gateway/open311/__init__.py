"""Open311 GeoReport v2 for government platforms (``/open311``): routes, the mapping, the wire formats."""
