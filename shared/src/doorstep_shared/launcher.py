"""Moved to doorstep_tools.launcher; removed once every package imports the new path.

Until then this shim is one of the two places where the library reaches into the toolshed (the
image's entry point serves every app with ``--http doorstep_shared.launcher:…`` and tests start
``python -m doorstep_shared.launcher``).
"""

import subprocess  # tests patch launcher.subprocess.Popen

from doorstep_tools.apps import APPS, DEMO_LOGINS, settings_of
from doorstep_tools.launcher import (
    HTTP_PROTOCOL,
    CoalescingHttpToolsProtocol,
    banner,
    main,
    seed_all,
    start,
    supervise,
)
from doorstep_tools.launcher import CoalescingTransport as _CoalescingTransport
from doorstep_tools.migrate import upgrade_all as migrate_all

__all__ = [
    "APPS",
    "DEMO_LOGINS",
    "HTTP_PROTOCOL",
    "CoalescingHttpToolsProtocol",
    "_CoalescingTransport",
    "banner",
    "main",
    "migrate_all",
    "seed_all",
    "settings_of",
    "start",
    "subprocess",
    "supervise",
]

if __name__ == "__main__":
    raise SystemExit(main())
