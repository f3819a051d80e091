"""discovery leads: list indexes on (grid, id) and (community, id)

The (grid, verdict, status, id) and (community, verdict, status, id) indexes made every inserted
lead cost four index comparisons on three text columns; the first fill of a county was bound by
them. Lists page by id within a grid or community and filter verdict and status on the rows read.

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
        batch_op.create_index("ix_discovery_lead_grid", ["grid", "id"], unique=False)
        batch_op.create_index("ix_discovery_lead_community", ["community", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("discovery_lead", schema=None) as batch_op:
        batch_op.drop_index("ix_discovery_lead_community")
        batch_op.drop_index("ix_discovery_lead_grid")
        batch_op.create_index(
            "ix_discovery_lead_community_status", ["community", "verdict", "status", "id"], unique=False
        )
        batch_op.create_index("ix_discovery_lead_grid_status", ["grid", "verdict", "status", "id"], unique=False)
