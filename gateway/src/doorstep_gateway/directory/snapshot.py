"""The directory as the gateway's runtime reads it: the active records as one
:class:`~doorstep_shared.directory.Directory`, kept in the app state.

Every write moves the stored generation (``directory_generation``, in its transaction): a read
that finds another generation than the one the copy was built at rebuilds it (a write on this
replica or another). A record that becomes active or inactive later (``active_from`` /
``active_to`` in the future) makes the copy expire at that instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from doorstep_shared.directory import Community, Compound, County, Directory, Grid

Generation = tuple[int, dt.datetime | None]


def active(record: Any, now: dt.datetime) -> bool:
    return bool(record.active_from <= now and (record.active_to is None or record.active_to > now))


def next_change(records: Iterable[Any], now: dt.datetime) -> dt.datetime | None:
    """The first future instant at which a record becomes active or inactive."""
    times = [t for r in records for t in (r.active_from, r.active_to) if t is not None and t > now]
    return min(times, default=None)


def build(
    counties: Sequence[Any],
    communities: Sequence[Any],
    grids: Sequence[Any],
    compounds: Sequence[Any],
    now: dt.datetime,
) -> Directory:
    """The active records, each under an active parent (so the export never names a missing one)."""
    county_rows = [c for c in counties if active(c, now)]
    have = {c.code for c in county_rows}
    community_rows = [c for c in communities if active(c, now) and (c.county is None or c.county in have)]
    have_community = {c.code for c in community_rows}
    grid_rows = sorted(
        (g for g in grids if active(g, now) and g.community in have_community), key=lambda g: (g.community, g.number)
    )
    have_grid = {g.code for g in grid_rows}
    compound_rows = [c for c in compounds if active(c, now) and c.grid in have_grid]
    return Directory.of(
        (County(c.code, c.name) for c in county_rows),
        (Community(c.code, c.name, c.county or "") for c in community_rows),
        (Grid(g.code, g.name, g.community, g.number) for g in grid_rows),
        (
            Compound(
                code=c.code,
                name=c.name,
                community=c.community,
                grid=c.grid,
                address=c.address,
                latitude=c.latitude,
                longitude=c.longitude,
                buildings=c.buildings,
                households=c.households,
                placeholder=c.placeholder,
            )
            for c in compound_rows
        ),
    )


class DirectoryCopy:
    """The gateway's copy of its own directory (one per app, in :class:`GatewayState`)."""

    def __init__(self) -> None:
        self.directory = Directory()
        self.generation: Generation | None = None
        self.expires_at: dt.datetime | None = None

    def fresh(self, generation: Generation, now: dt.datetime) -> bool:
        return self.generation == generation and (self.expires_at is None or now < self.expires_at)

    def install(self, directory: Directory, generation: Generation, expires_at: dt.datetime | None) -> None:
        self.directory, self.generation, self.expires_at = directory, generation, expires_at
