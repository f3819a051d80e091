"""Items: categories and service items (办事指南) — search, read, write, export — and this
replica's in-memory index of them."""
