"""The events stations publishes to webhook subscribers (no personal data in any payload)."""

from __future__ import annotations

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.webhooks import EventType

READ = (Permission.STATIONS_READ.value,)

EVENT_TYPES = (
    EventType(
        "ticket.ready",
        READ,
        "A drop-off ticket's item is ready for collection",
        {
            "ticket_id": 17,
            "number": "SH-007",
            "station": "shuxiang",
            "community": "chaoyang",
            "status": "ready",
            "ready_at": "2026-11-02T06:30:00Z",
        },
    ),
    EventType(
        "ticket.collected",
        READ,
        "A drop-off ticket's item was handed back",
        {
            "ticket_id": 17,
            "number": "SH-007",
            "station": "shuxiang",
            "community": "chaoyang",
            "status": "collected",
            "collected_at": "2026-11-03T02:10:00Z",
        },
    ),
    EventType(
        "booking.cancelled",
        READ,
        "A booking was cancelled (by the resident, through staff); its seats were freed",
        {
            "booking_id": 41,
            "session_id": 9,
            "station": "anliang",
            "community": "chaoyang",
            "seats": 2,
            "status": "cancelled",
            "previous_status": "confirmed",
            "session_starts_at": "2026-11-07T01:00:00Z",
            "at": "2026-11-02T03:00:00Z",
        },
    ),
    EventType(
        "booking.promoted",
        READ,
        "A waitlisted booking got its seats",
        {
            "booking_id": 42,
            "session_id": 9,
            "station": "anliang",
            "community": "chaoyang",
            "seats": 1,
            "status": "confirmed",
            "session_starts_at": "2026-11-07T01:00:00Z",
            "at": "2026-11-02T03:00:00Z",
        },
    ),
    EventType(
        "session.cancelled",
        READ,
        "A class session or appointment slot was cancelled (by a manager, or below its minimum)",
        {
            "session_id": 9,
            "station": "zhongyang",
            "service": "painting",
            "community": "chaoyang",
            "title": "周六书画",
            "starts_at": "2026-11-07T01:00:00Z",
            "reason": "报名人数不足4人",
            "below_minimum": True,
            "cancelled_bookings": [41, 42],
        },
    ),
)
