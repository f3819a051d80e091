"""Doorstep gateway: one entry for every client; the app is ``doorstep_gateway.main:create_app``."""
