"""The directory snapshot every app reads: frozen records and their lookups, to and from the
export document."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class County:
    code: str
    name: str


@dataclass(frozen=True)
class Community:
    code: str
    name: str
    county: str


@dataclass(frozen=True)
class Grid:
    code: str
    name: str
    community: str
    number: int


@dataclass(frozen=True)
class Compound:
    code: str
    name: str
    community: str
    grid: str
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    buildings: int | None = None
    households: int | None = None
    placeholder: bool = False


@dataclass(frozen=True)
class Directory:
    """One revision of the directory: the active records, in their export order."""

    counties: tuple[County, ...] = ()
    communities: tuple[Community, ...] = ()
    grids: tuple[Grid, ...] = ()
    compounds: tuple[Compound, ...] = ()
    revision: str = ""
    _county: dict[str, County] = field(default_factory=dict, repr=False, compare=False)
    _community: dict[str, Community] = field(default_factory=dict, repr=False, compare=False)
    _grid: dict[str, Grid] = field(default_factory=dict, repr=False, compare=False)
    _compound: dict[str, Compound] = field(default_factory=dict, repr=False, compare=False)
    _of_county: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._county.update((c.code, c) for c in self.counties)
        self._community.update((c.code, c) for c in self.communities)
        self._grid.update((g.code, g) for g in self.grids)
        self._compound.update((c.code, c) for c in self.compounds)
        for c in self.communities:
            self._of_county[c.county] = self._of_county.get(c.county, frozenset()) | {c.code}
        if not self.revision:
            object.__setattr__(self, "revision", _revision(self.export_body()))

    @classmethod
    def of(
        cls,
        counties: Iterable[County] = (),
        communities: Iterable[Community] = (),
        grids: Iterable[Grid] = (),
        compounds: Iterable[Compound] = (),
        revision: str = "",
    ) -> Directory:
        return cls(tuple(counties), tuple(communities), tuple(grids), tuple(compounds), revision)

    # --- lookups ---------------------------------------------------------------------------

    def county(self, code: str | None) -> County | None:
        return self._county.get(code) if code else None

    def community(self, code: str | None) -> Community | None:
        return self._community.get(code) if code else None

    def grid(self, code: str | None) -> Grid | None:
        return self._grid.get(code) if code else None

    def compound(self, code: str | None) -> Compound | None:
        return self._compound.get(code) if code else None

    def communities_of(self, county: str) -> tuple[Community, ...]:
        return tuple(c for c in self.communities if c.county == county)

    def community_codes_of(self, county: str) -> frozenset[str]:
        """The codes of a county's active communities (what a county role of it sees)."""
        return self._of_county.get(county, frozenset())

    def grids_of(self, community: str) -> tuple[Grid, ...]:
        return tuple(g for g in self.grids if g.community == community)

    def compounds_of(self, community: str | None = None, grid: str | None = None) -> tuple[Compound, ...]:
        return tuple(
            c
            for c in self.compounds
            if (community is None or c.community == community) and (grid is None or c.grid == grid)
        )

    def county_of(self, community: str | None) -> str | None:
        found = self.community(community)
        return found.county if found else None

    # --- the export document -----------------------------------------------------------------

    def export_body(self) -> dict[str, Any]:
        return {
            "counties": [asdict(c) for c in self.counties],
            "communities": [asdict(c) for c in self.communities],
            "grids": [asdict(g) for g in self.grids],
            "compounds": [asdict(c) for c in self.compounds],
        }

    def to_export(self) -> dict[str, Any]:
        return {"revision": self.revision, **self.export_body()}

    @classmethod
    def from_export(cls, document: Mapping[str, Any]) -> Directory:
        return cls.of(
            (County(**c) for c in document.get("counties", ())),
            (Community(**c) for c in document.get("communities", ())),
            (Grid(**g) for g in document.get("grids", ())),
            (Compound(**c) for c in document.get("compounds", ())),
            revision=str(document.get("revision") or ""),
        )


def _revision(body: Mapping[str, Any]) -> str:
    """A content hash: the same records give the same revision on every replica."""
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
