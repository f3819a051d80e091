"""The dashboard shows instants in Beijing time, labelled (issue 21, part 4): people at the
county read 北京时间, and a late-evening UTC instant is already tomorrow there."""

from __future__ import annotations

import datetime as dt

from doorstep_gateway.reports.dashboard import panel
from doorstep_gateway.reports.schemas import DegradedService, Figures, ReportSummary


def test_the_panel_shows_generated_and_stale_times_in_beijing_time() -> None:
    summary = ReportSummary(
        period_from=dt.date(2027, 1, 1),
        period_to=dt.date(2027, 1, 31),
        community=None,
        generated_at=dt.datetime(2027, 1, 31, 17, 5, 9, tzinfo=dt.UTC),
        unavailable=[],
        degraded=[
            DegradedService(
                service="proxy", state="degraded", stale_since=dt.datetime(2027, 1, 31, 23, 30, tzinfo=dt.UTC)
            )
        ],
        county=Figures(),
        communities=[],
        handbook=None,
    )
    html = panel(summary, "演示县")
    assert "生成于 2027-02-01 01:05:09（北京时间）" in html
    assert "使用 2027-02-01 07:30（北京时间） 的副本" in html
    assert "UTC" not in html and "17:05" not in html and "+00:00" not in html
