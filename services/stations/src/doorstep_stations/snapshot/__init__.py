"""The station directory from memory: stations, services and opening hours for the hot reads."""
