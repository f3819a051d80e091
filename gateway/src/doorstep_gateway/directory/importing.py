"""The import plan: what a file's rows change in the stored directory, row by row (pure, no
database; the import runs it in a worker thread beside the file's parsing).

The file is checked on its own by :func:`doorstep_shared.directory.parse_rows`; here against
what is stored: a community stored under another county, a grid under another community. A
compound whose grid differs from the stored one is a redraw: ``updated``, the change recorded.
An import never deletes: a record the file does not name stays as it is. A record stored as
inactive that the file names is active again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from doorstep_shared.directory import DirectoryRow, RowError

from .schemas import ImportRow, RecordChange, RowProblem

OPTIONAL = ("buildings", "households", "placeholder")
NAME_MAX, ADDRESS_MAX = 100, 200  # the columns' lengths
COMPOUND_FIELDS = ("name", "community", "grid", "address", "latitude", "longitude")
Stored = Mapping[str, Mapping[str, dict[str, Any]]]  # kind → code → fields


@dataclass
class Plan:
    rows: list[ImportRow] = field(default_factory=list)
    inserts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    updates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    changes: list[RecordChange] = field(default_factory=list)
    # What a created record starts with, for its history (the report only names it).
    created: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def history_of(self, change: RecordChange) -> dict[str, list[Any]]:
        return self.created.get((change.kind, change.code), change.changes)

    @property
    def failed(self) -> bool:
        return any(r.action == "error" for r in self.rows)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("created", "updated", "unchanged", "error"), 0)
        for r in self.rows:
            counts[r.action] += 1
        return counts


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


class _Planner:
    def __init__(self, stored: Stored, columns: set[str], now: dt.datetime) -> None:
        self.stored = stored
        self.optional = [c for c in OPTIONAL if c in columns]
        self.now = now
        self.plan = Plan()
        self.seen: set[tuple[str, str]] = set()
        self.numbers: dict[str, int] = {}
        for g in stored.get("grids", {}).values():
            self.numbers[g["community"]] = max(self.numbers.get(g["community"], 0), g["number"])

    def upsert(self, kind: str, code: str, wanted: dict[str, Any]) -> RecordChange | None:
        """The change this record needs (None: none, or already planned by an earlier row)."""
        if (kind, code) in self.seen:
            return None
        self.seen.add((kind, code))
        before = self.stored.get(kind, {}).get(code)
        if before is None:
            values = {"code": code, **wanted, "active_from": self.now, "active_to": None}
            self.plan.inserts.setdefault(kind, []).append(values)
            self.plan.created[(kind, code)] = {k: [None, _json(v)] for k, v in wanted.items()}
            return RecordChange(kind=kind, code=code, action="created")
        diff = {k: [before.get(k), v] for k, v in wanted.items() if before.get(k) != v}
        if before.get("active_to") is not None:
            diff["active_to"] = [before["active_to"], None]
        if not diff:
            return None
        self.plan.updates.setdefault(kind, []).append({"code": code, **{k: v[1] for k, v in diff.items()}})
        return RecordChange(
            kind=kind,
            code=code,
            action="updated",
            changes={k: [_json(a), _json(b)] for k, (a, b) in diff.items()},
        )

    def stored_conflicts(self, row: DirectoryRow) -> list[RowProblem]:
        problems = [
            RowProblem(field=name, code="too_long", detail=f"{name} is longer than {limit} characters")
            for name, value, limit in (
                ("county_name", row.county.name, NAME_MAX),
                ("community_name", row.community.name, NAME_MAX),
                ("grid_name", row.grid.name, NAME_MAX),
                ("compound_name", row.compound.name if row.compound else "", NAME_MAX),
                ("address", row.compound.address if row.compound else "", ADDRESS_MAX),
            )
            if len(value) > limit
        ]
        community = self.stored.get("communities", {}).get(row.community.code)
        if community and community["county"] not in (None, row.county.code):
            problems.append(
                RowProblem(
                    field="community_code",
                    code="in_another_county",
                    detail=f"community {row.community.code!r} belongs to county {community['county']!r}",
                )
            )
        grid = self.stored.get("grids", {}).get(row.grid.code)
        if grid and grid["community"] != row.community.code:
            problems.append(
                RowProblem(
                    field="grid_code",
                    code="in_another_community",
                    detail=f"grid {row.grid.code!r} belongs to community {grid['community']!r}",
                )
            )
        return problems

    def row(self, row: DirectoryRow) -> ImportRow:
        problems = self.stored_conflicts(row)  # and the lengths the tables hold
        if problems:
            return ImportRow(line=row.line, action="error", errors=problems)
        changes = [
            self.upsert("counties", row.county.code, {"name": row.county.name}),
            self.upsert(
                "communities", row.community.code, {"name": row.community.name, "county": row.community.county}
            ),
        ]
        grid: dict[str, Any] = {"name": row.grid.name, "community": row.grid.community}
        if row.grid.code not in self.stored.get("grids", {}) and ("grids", row.grid.code) not in self.seen:
            grid["number"] = self.numbers[row.grid.community] = self.numbers.get(row.grid.community, 0) + 1
        changes.append(self.upsert("grids", row.grid.code, grid))
        if row.compound is not None:
            c = row.compound
            wanted = {f: getattr(c, f) for f in (*COMPOUND_FIELDS, *self.optional)}
            if c.code not in self.stored.get("compounds", {}):
                wanted = {f: getattr(c, f) for f in (*COMPOUND_FIELDS, *OPTIONAL)}
            changes.append(self.upsert("compounds", c.code, wanted))
        done = [c for c in changes if c is not None]
        self.plan.changes.extend(done)
        actions = {c.action for c in done}
        action = "created" if "created" in actions else "updated" if actions else "unchanged"
        return ImportRow(line=row.line, action=action, changes=done)


def plan_import(
    rows: list[DirectoryRow], errors: list[RowError], stored: Stored, columns: set[str], now: dt.datetime
) -> Plan:
    """Every line's outcome, and the writes that bring the stored directory to the file."""
    planner = _Planner(stored, columns, now)
    reports: dict[int, ImportRow] = {}
    for e in errors:
        report = reports.setdefault(e.line, ImportRow(line=e.line, action="error"))
        report.errors.append(RowProblem(field=e.field, code=e.code, detail=e.detail))
    for r in rows:
        reports[r.line] = planner.row(r)
    planner.plan.rows = [reports[line] for line in sorted(reports)]
    return planner.plan
