"""Bulk import of survey sheets (摸排表): read the sheet, check every row, upsert residents by ID number."""
