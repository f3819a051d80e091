"""The events proxy publishes to webhook subscribers (no names, phones or free text in any payload)."""

from __future__ import annotations

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.webhooks import EventType

DEMANDS = (Permission.DEMANDS_READ.value, Permission.CASES_READ.value)
CASES = (Permission.CASES_READ.value,)

EVENT_TYPES = (
    EventType(
        "demand.created",
        DEMANDS,
        "A demand (诉求) was logged",
        {
            "demand_id": "7f0c2b1e-3d4a-4b5c-9e8f-0a1b2c3d4e5f",
            "community": "chaoyang",
            "channel": "hotline",
            "kind": "request",
            "item_code": "gaoling-butie",
            "status": "open",
            "external_ref": "12345-2026-0001",
            "source_client": "demo.platform",
            "created_at": "2026-11-02T06:30:00Z",
        },
    ),
    EventType(
        "demand.answered",
        DEMANDS,
        "A demand was answered",
        {
            "demand_id": "7f0c2b1e-3d4a-4b5c-9e8f-0a1b2c3d4e5f",
            "community": "chaoyang",
            "status": "answered",
            "external_ref": "12345-2026-0001",
            "answered_at": "2026-11-02T07:10:00Z",
        },
    ),
    EventType(
        "case.status_changed",
        CASES,
        "A proxy case moved to another status",
        {
            "case_id": "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b",
            "community": "chaoyang",
            "item_code": "gaoling-butie",
            "from": "visited",
            "to": "materials_complete",
            "demand_id": "7f0c2b1e-3d4a-4b5c-9e8f-0a1b2c3d4e5f",
            "at": "2026-11-05T02:00:00Z",
        },
    ),
    EventType(
        "case.completed",
        CASES,
        "A case was decided (approved or rejected)",
        {
            "case_id": "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b",
            "community": "chaoyang",
            "item_code": "gaoling-butie",
            "decision": "approved",
            "demand_id": "7f0c2b1e-3d4a-4b5c-9e8f-0a1b2c3d4e5f",
            "decided_at": "2026-11-20T03:00:00Z",
        },
    ),
)
