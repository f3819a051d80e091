"""Drop-off tickets: an item left at a station, worked on, handed back against a claim code."""
