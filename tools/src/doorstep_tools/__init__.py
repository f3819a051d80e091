"""The repository's toolshed: what knows every app, kept out of the ``doorstep_shared`` library.

- :mod:`doorstep_tools.apps`: the apps (app → package), their settings, the demo logins
- :mod:`doorstep_tools.migrate`: ``python -m doorstep_tools.migrate upgrade`` (every app's migrations)
- :mod:`doorstep_tools.launcher`: ``make run`` (``--seed-only``: migrate and load the demo data) and
  the uvicorn protocol every app is served with (also in the image)
- :mod:`doorstep_tools.envdoc`: the README's configuration table (``make docs``)

No app imports this package; it imports them all.
"""

from .apps import APPS, DEMO_LOGINS, SERVICES, settings_of

__all__ = ["APPS", "DEMO_LOGINS", "SERVICES", "settings_of"]
