"""Figures: people served per station over a period."""
