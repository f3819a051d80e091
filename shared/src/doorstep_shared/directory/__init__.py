"""The org directory as data: counties → communities → grids → compounds.

The gateway owns the directory (its tables, admin API and imports); it publishes it as one JSON
document, ``GET /api/v1/directory/export`` (ETag = the revision). Every service keeps a copy of
that document and validates against it. :class:`Directory` is that document in memory, the one
shape both sides speak; :func:`parse_rows` reads the import file format (one row per compound),
which the gateway's import and the demo data use.
"""

from __future__ import annotations

from .files import demo_directory_file
from .model import Community, Compound, County, Directory, Grid
from .rows import COLUMNS, DirectoryRow, RowError, decode, directory_of, parse_rows, read_csv

__all__ = [
    "COLUMNS",
    "Community",
    "Compound",
    "County",
    "Directory",
    "DirectoryRow",
    "Grid",
    "RowError",
    "decode",
    "demo_directory_file",
    "directory_of",
    "parse_rows",
    "read_csv",
]
