"""The figures as a CSV sheet for spreadsheet programs."""

from __future__ import annotations

import csv
import io
from typing import Any

from .schemas import FIGURE_NAMES, ReportSummary

CSV_HEADER = ["community", "name", *FIGURE_NAMES]


def to_csv(summary: ReportSummary, county: tuple[str, str]) -> bytes:
    """One row per community and a county total; empty cells where a service did not answer."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in summary.communities:
        writer.writerow([_cell(row.community), _cell(row.name), *(_cell(getattr(row, n)) for n in FIGURE_NAMES)])
    if len(summary.counties) > 1:  # each county's total, then the total of them all
        for each in summary.counties:
            writer.writerow([each.code, f"{each.name}（合计）", *(_cell(getattr(each, n)) for n in FIGURE_NAMES)])
    writer.writerow([county[0], f"{county[1]}（合计）", *(_cell(getattr(summary.county, n)) for n in FIGURE_NAMES)])
    # A byte-order mark so that spreadsheet programs read the Chinese names as UTF-8.
    return "\ufeff".encode() + buffer.getvalue().encode()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Cells starting with a formula character are quoted so a spreadsheet shows them as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
