"""discovery leads: one list index on (community, grid, id)

The (grid, verdict, status, id) and (community, verdict, status, id) indexes cost several index
comparisons on text columns per inserted lead; the first fill of a county was bound by them.
Lists page by id within a grid or a community and filter verdict and status on the rows read;
a grid's community is fixed by the organisation, so one index serves both.

Revision ID: a4d0c1e00001
Revises: f3a0d1700001
Create Date: 2026-11-29 03:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

revision: str = "a4d0c1e00001"
down_revision: str | None = "f3a0d1700001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("discovery_lead", schema=None) as batch_op:
        batch_op.drop_index("ix_discovery_lead_grid_status")
        batch_op.drop_index("ix_discovery_lead_community_status")
        batch_op.create_index("ix_discovery_lead_place", ["community", "grid", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("discovery_lead", schema=None) as batch_op:
        batch_op.drop_index("ix_discovery_lead_place")
        batch_op.create_index(
            "ix_discovery_lead_community_status", ["community", "verdict", "status", "id"], unique=False
        )
        batch_op.create_index("ix_discovery_lead_grid_status", ["grid", "verdict", "status", "id"], unique=False)
