"""doorstep_stations: party-mass service stations (党群驿站). ``main.create_app`` builds the app;
one sub-package per sub-domain (router → service → repository); the README maps the tree."""
