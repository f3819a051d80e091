"""doorstep_catalog: the generalist's handbook (全科社工手册). ``main.create_app`` builds the app;
one sub-package per sub-domain (router → service → repository); the README maps the tree."""
