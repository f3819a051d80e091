"""Tips (实战窍门) on items, morning briefings (晨会), and the printable explainer (政策明白纸)."""
