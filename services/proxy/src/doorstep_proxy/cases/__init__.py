"""Proxy cases (代办件), visits, deadlines and the field-app sync protocol."""
