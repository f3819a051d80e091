"""The last directory received from the gateway, kept in this service's database
(``doorstep_shared.db.directory_store``): a restart while the gateway is down still has it."""

from __future__ import annotations

from doorstep_shared.db.directory_store import directory_copy_table

from ..db import metadata

directory_copy = directory_copy_table(metadata)
