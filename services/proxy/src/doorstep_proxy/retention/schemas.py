"""API shapes of the retention purge."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class PurgeResult(BaseModel):
    """What one purge run did."""

    retention_days: int
    cutoff: dt.datetime
    erased: int
    demands_cleared: int
    files_deleted: int = 0  # photos and scans of the erased residents' cases
    ran_at: dt.datetime
