"""Search results: a station, how far it is and whether it is open now."""

from __future__ import annotations

from ..stations.schemas import StationRead


class StationHit(StationRead):
    """A search result: the station, its distance from the point asked about, open now or not."""

    distance_km: float | None = None
    open_now: bool
