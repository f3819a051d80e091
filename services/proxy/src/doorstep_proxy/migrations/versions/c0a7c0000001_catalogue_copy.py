"""the last good catalogue, kept so a restart during a catalog outage still serves it

Revision ID: c0a7c0000001
Revises: a0d17c4a0003
Create Date: 2026-12-03 15:45:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "c0a7c0000001"
down_revision: str | None = "a0d17c4a0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalogue_copy",
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_catalogue_copy")),
    )


def downgrade() -> None:
    op.drop_table("catalogue_copy")
