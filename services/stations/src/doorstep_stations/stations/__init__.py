"""Stations: the party-mass service stations (党群驿站) and their featured services."""
