"""Proxy workers (代办人员清): field profiles and the teams of grids."""
