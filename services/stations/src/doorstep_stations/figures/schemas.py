"""Figures API shapes: people served per station over a period."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class StationFigures(BaseModel):
    station_code: str
    station_name: str
    community: str
    sessions_held: int
    sessions_cancelled: int
    seats_booked: int
    seats_attended: int
    no_shows: int
    tickets_received: int
    tickets_collected: int
    tickets_returned: int
    avg_turnaround_hours: float | None
    people_served: int


class FiguresRead(BaseModel):
    from_date: dt.date
    to_date: dt.date
    stations: list[StationFigures]
    total_people_served: int
