"""audit retention: checkpoints of the pruned prefix of the audit chain (audit_pruned)

Each row records the last pruned entry's id and MAC and how many entries were pruned in all,
MACed under the audit key and chained to the row before; /verify starts from the newest.

Revision ID: ms20p0000001
Revises: bb7f11e00001
Create Date: 2026-12-04 04:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ms20p0000001"
down_revision: str | None = "bb7f11e00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_pruned",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("through_id", sa.BigInteger(), nullable=False),
        sa.Column("through_hash", sa.String(length=64), nullable=False),
        sa.Column("pruned", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("prev_sig", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("sig", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_pruned")),
    )


def downgrade() -> None:
    op.drop_table("audit_pruned")
