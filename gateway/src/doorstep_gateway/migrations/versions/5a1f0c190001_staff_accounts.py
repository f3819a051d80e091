"""staff accounts: county, stations, encrypted phone, one-time activation codes

Existing rows keep county NULL: the community table has no county yet, so NULL means "the single
county of this deployment" (the demo seed sets its users' county from the seed's data). They
keep their passwords (password_set true); new and reset accounts wait for activation.

Revision ID: 5a1f0c190001
Revises: 5e7c1d000001
Create Date: 2026-12-03 18:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "5a1f0c190001"
down_revision: str | None = "5e7c1d000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("county", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("stations", JSON, server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column("phone_cipher", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("phone_masked", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("password_set", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("activation_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("activation_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_user_account_county"), ["county"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_county"))
        batch_op.drop_column("activation_expires_at")
        batch_op.drop_column("activation_code_hash")
        batch_op.drop_column("password_set")
        batch_op.drop_column("phone_masked")
        batch_op.drop_column("phone_cipher")
        batch_op.drop_column("stations")
        batch_op.drop_column("county")
