"""sync scope: a tombstone may say whose scope a record left (a grid, a worker) instead of a deletion

Revision ID: 55c0be000001
Revises: d1c0a7000001
Create Date: 2026-12-03 22:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "55c0be000001"
down_revision: str | None = "d1c0a7000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_tombstone", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grid", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("worker", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_tombstone", schema=None) as batch_op:
        batch_op.drop_column("worker")
        batch_op.drop_column("grid")
