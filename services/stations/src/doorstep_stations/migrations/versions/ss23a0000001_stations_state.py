"""the revision of what the hot station reads show: one row, bumped by every write to stations, services, hours

Revision ID: ss23a0000001
Revises: d1c0a7000002
Create Date: 2026-12-04 08:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "ss23a0000001"
down_revision: str | None = "d1c0a7000002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stations_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations_state")),
    )


def downgrade() -> None:
    op.drop_table("stations_state")
