"""audit chain keyed: each entry names the key that MACs it (NULL: an entry from before keys)

Existing entries are not re-keyed: they keep their plain SHA-256 and the first keyed entry,
which chains to them, starts a keyed epoch (see the README's "The audit chain").

Revision ID: a0d17c4a0002
Revises: 210b237de2c2
Create Date: 2026-12-03 15:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a0d17c4a0002"
down_revision: str | None = "210b237de2c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("key_id")
