"""One-round-trip replay: ``POST /api/v1/proxy/batch`` runs an offline queue in order (CASES.md)."""
