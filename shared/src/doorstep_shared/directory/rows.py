"""The directory file format: one row per compound (a row with no compound declares a grid).

Columns: county_code, county_name, community_code, community_name, grid_code, grid_name,
compound_code, compound_name, address, latitude, longitude; optional: buildings, households,
placeholder. UTF-8 (with or without BOM) or GBK. :func:`parse_rows` checks each row on its own
(codes, numbers, ranges) and the file as a whole (a code used twice with different parents);
checks against what is already stored are the importer's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import Community, Compound, County, Directory, Grid

COLUMNS = (
    "county_code",
    "county_name",
    "community_code",
    "community_name",
    "grid_code",
    "grid_name",
    "compound_code",
    "compound_name",
    "address",
    "latitude",
    "longitude",
)
OPTIONAL = ("buildings", "households", "placeholder")
REQUIRED = ("county_code", "county_name", "community_code", "community_name", "grid_code", "grid_name")
CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class DirectoryRow:
    line: int
    county: County
    community: Community
    grid: Grid
    compound: Compound | None


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    code: str
    detail: str


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not), else GBK; raises UnicodeDecodeError when it is neither."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gbk")


def read_csv(text: str) -> list[dict[str, str]]:
    return [dict(r) for r in csv.DictReader(io.StringIO(text))]


def _code(value: str) -> bool:
    return 0 < len(value) <= 64 and set(value) <= CODE_CHARS


def _number(raw: str, field: str, line: int, low: float, high: float, errors: list[RowError]) -> float | None:
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        errors.append(RowError(line, field, "not_a_number", f"{field} {raw!r} is not a number"))
        return None
    if not low <= value <= high:
        errors.append(RowError(line, field, "out_of_range", f"{field} {value} is outside [{low}, {high}]"))
        return None
    return value


def parse_rows(records: Iterable[Mapping[str, str | None]]) -> tuple[list[DirectoryRow], list[RowError]]:
    """Rows that are sound on their own and as a file, and an error per bad field.

    Line numbers count the header as line 1. Grid numbers follow the order in which a
    community's grids first appear.
    """
    rows: list[DirectoryRow] = []
    errors: list[RowError] = []
    parents: dict[tuple[str, str], tuple[str, int]] = {}  # (kind, code) → (parent + name, first line)
    grid_numbers: dict[str, dict[str, int]] = {}
    for index, record in enumerate(records):
        line = index + 2
        get = {k: (record.get(k) or "").strip() for k in (*COLUMNS, *OPTIONAL)}
        row_errors: list[RowError] = []
        for name in REQUIRED:
            if not get[name]:
                row_errors.append(RowError(line, name, "required", f"{name} is empty"))
        for name in ("county_code", "community_code", "grid_code", "compound_code"):
            if get[name] and not _code(get[name]):
                row_errors.append(
                    RowError(line, name, "invalid_code", f"{name} {get[name]!r}: lower-case letters, digits, - and _")
                )
        if get["compound_code"] and not get["compound_name"]:
            row_errors.append(RowError(line, "compound_name", "required", "compound_name is empty"))
        latitude = _number(get["latitude"], "latitude", line, -90, 90, row_errors)
        longitude = _number(get["longitude"], "longitude", line, -180, 180, row_errors)
        counts = {n: _number(get[n], n, line, 0, 1_000_000, row_errors) for n in ("buildings", "households")}
        declared = {
            ("county", get["county_code"]): f"{get['county_name']}",
            ("community", get["community_code"]): f"{get['county_code']}/{get['community_name']}",
            ("grid", get["grid_code"]): f"{get['community_code']}/{get['grid_name']}",
        }
        if get["compound_code"]:
            declared[("compound", get["compound_code"])] = (
                f"{get['grid_code']}/{get['compound_name']}/{get['address']}/{latitude}/{longitude}"
            )
        for key, value in declared.items():
            seen = parents.get(key)
            if key[1] and seen and seen[0] != value:
                field = f"{key[0]}_code"
                row_errors.append(
                    RowError(line, field, "conflicting_row", f"{key[0]} {key[1]!r} differs from line {seen[1]}")
                )
        if row_errors:
            errors.extend(row_errors)
            continue
        for key, value in declared.items():
            parents.setdefault(key, (value, line))
        numbers = grid_numbers.setdefault(get["community_code"], {})
        number = numbers.setdefault(get["grid_code"], len(numbers) + 1)
        compound = None
        if get["compound_code"]:
            compound = Compound(
                code=get["compound_code"],
                name=get["compound_name"],
                community=get["community_code"],
                grid=get["grid_code"],
                address=get["address"],
                latitude=latitude,
                longitude=longitude,
                buildings=None if counts["buildings"] is None else int(counts["buildings"]),
                households=None if counts["households"] is None else int(counts["households"]),
                placeholder=get["placeholder"].lower() in ("1", "true", "yes"),
            )
        rows.append(
            DirectoryRow(
                line=line,
                county=County(get["county_code"], get["county_name"]),
                community=Community(get["community_code"], get["community_name"], get["county_code"]),
                grid=Grid(get["grid_code"], get["grid_name"], get["community_code"], number),
                compound=compound,
            )
        )
    return rows, errors


def directory_of(rows: Iterable[DirectoryRow]) -> Directory:
    """The directory a set of sound rows describes (first appearance sets the order)."""
    counties: dict[str, County] = {}
    communities: dict[str, Community] = {}
    grids: dict[str, Grid] = {}
    compounds: dict[str, Compound] = {}
    for r in rows:
        counties.setdefault(r.county.code, r.county)
        communities.setdefault(r.community.code, r.community)
        grids.setdefault(r.grid.code, r.grid)
        if r.compound:
            compounds.setdefault(r.compound.code, r.compound)
    return Directory.of(counties.values(), communities.values(), grids.values(), compounds.values())
