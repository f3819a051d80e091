"""Eligibility: which items a resident qualifies for, and why (the items' compiled rules)."""
