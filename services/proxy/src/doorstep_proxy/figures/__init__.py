"""Figures: what the ledger, demands and cases of a community or grid add up to."""
