"""client api_key: an Open311 API key per machine client (lookup id, SHA-256 hash, issue time)

Revision ID: c3a9e1f20001
Revises: d1ec70a00001
Create Date: 2026-12-03 19:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3a9e1f20001"
down_revision: str | None = "d1ec70a00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("api_key_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("api_key_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("api_key_issued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_api_client_api_key_id"), ["api_key_id"])


def downgrade() -> None:
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_api_client_api_key_id"), type_="unique")
        batch_op.drop_column("api_key_issued_at")
        batch_op.drop_column("api_key_hash")
        batch_op.drop_column("api_key_id")
