"""Moved: the runner to doorstep_shared.db.migrations, the app registry and the migrate-all CLI to
doorstep_tools.migrate (tools/); removed once every package imports the new paths.

Until then this shim is the one place where the library reaches into the toolshed (the image's
``entrypoint.sh migrate`` and tests still name ``doorstep_shared.migrations``).
"""

from doorstep_shared.db.migrations import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    known_revisions,
    run_env,
    upgrade,
)
from doorstep_tools.apps import SERVICES
from doorstep_tools.migrate import main

__all__ = [
    "SERVICES",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "known_revisions",
    "main",
    "run_env",
    "upgrade",
]

if __name__ == "__main__":
    raise SystemExit(main())
