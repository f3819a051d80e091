"""discovery leads: unique (item, resident) replaces unique (resident, item) and (item, status)

A first fill of a county pays for every index on every lead it inserts. With the item first,
the unique index is also the one a run's per-item diff and sweep read, so the separate
(item_code, status) index goes; a resident's leads are read with the catalogue's item codes.

Revision ID: b7e1f2a00001
Revises: a4d0c1e00001
Create Date: 2026-11-29 06:30:00.000000

"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7e1f2a00001"
down_revision: str | None = "a4d0c1e00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("discovery_lead", schema=None) as batch_op:
        batch_op.drop_index("ix_discovery_lead_item_status")
        batch_op.drop_constraint("uq_discovery_lead_resident_item", type_="unique")
        batch_op.create_unique_constraint("uq_discovery_lead_item_resident", ["item_code", "resident_id"])


def downgrade() -> None:
    with op.batch_alter_table("discovery_lead", schema=None) as batch_op:
        batch_op.drop_constraint("uq_discovery_lead_item_resident", type_="unique")
        batch_op.create_unique_constraint("uq_discovery_lead_resident_item", ["resident_id", "item_code"])
        batch_op.create_index("ix_discovery_lead_item_status", ["item_code", "status"], unique=False)
