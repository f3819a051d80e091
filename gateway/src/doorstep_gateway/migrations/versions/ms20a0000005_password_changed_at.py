"""user password_changed_at for per-role password expiry

Revision ID: ms20a0000005
Revises: ms20a0000004
Create Date: 2026-12-04 04:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ms20a0000005"
down_revision: str | None = "ms20a0000004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))
    # Existing passwords count as set today: turning expiry on must not expire them all at once.
    op.execute(sa.text("UPDATE user_account SET password_changed_at = CURRENT_TIMESTAMP"))


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("password_changed_at")
