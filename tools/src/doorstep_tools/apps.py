"""The apps of this repository: which package each one is, its settings, the demo logins.

The one place that names every app; ``doorstep_shared`` knows none of them.
"""

from __future__ import annotations

import importlib
from typing import Any

# In the order ``make run`` starts them (the gateway first: the others fetch its keys).
SERVICES = {
    "gateway": "doorstep_gateway",
    "catalog": "doorstep_catalog",
    "proxy": "doorstep_proxy",
    "stations": "doorstep_stations",
}
APPS = list(SERVICES)

# The seeded staff accounts `make run` lists (password: $DOORSTEP_DEMO_PASSWORD).
DEMO_LOGINS = [
    ("county.admin", "county admin (all communities)"),
    ("zhenhuai.admin", "community admin, 镇淮社区"),
    ("chaoyang.admin", "community admin, 朝阳社区"),
    ("zhenhuai.worker", "social worker, 镇淮社区"),
    ("chaoyang.worker", "social worker, 朝阳社区 第六网格"),
    ("shuxiang.keeper", "station keeper, 书香华府党群驿站"),
    ("county.auditor", "auditor (read + audit log)"),
    ("platform.admin", "platform admin (counties and their admins; no residents)"),
]


def settings_of(app: str) -> Any:
    """The app's settings as the environment says now (its cached copy is dropped first)."""
    module = importlib.import_module(f"{SERVICES[app]}.config")
    module.get_settings.cache_clear()
    return module.get_settings()
