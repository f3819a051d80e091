"""the last org directory received from the gateway, kept so a restart while it is down still validates

Revision ID: d1c0a7000001
Revises: c0a7c0000001
Create Date: 2026-12-03 18:45:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d1c0a7000001"
down_revision: str | None = "c0a7c0000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_copy",
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.Column("etag", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_directory_copy")),
    )


def downgrade() -> None:
    op.drop_table("directory_copy")
