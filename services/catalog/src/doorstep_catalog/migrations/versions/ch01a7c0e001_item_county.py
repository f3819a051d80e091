"""items belong to a county: item.county, item codes unique per county; search_event.county

Existing rows get '' here: a migration cannot know the deployment's county (the directory is
the gateway's data). The catalog claims them for the directory's county when the directory
names exactly one (``items.service.claim_unassigned``, on every directory revision); the demo
loader writes the demo directory's county itself.

Revision ID: ch01a7c0e001
Revises: a0d17c4a0002
Create Date: 2026-12-03 22:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ch01a7c0e001"
down_revision: str | None = "a0d17c4a0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("county", sa.String(length=64), nullable=False, server_default=""))
        batch_op.drop_constraint("uq_item_code", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_item_county_code"), ["county", "code"])
        batch_op.create_index(batch_op.f("ix_item_county"), ["county"], unique=False)
    with op.batch_alter_table("search_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("county", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("search_event", schema=None) as batch_op:
        batch_op.drop_column("county")
    # Fails (as it should) while two counties share a code.
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_county"))
        batch_op.drop_constraint(batch_op.f("uq_item_county_code"), type_="unique")
        batch_op.create_unique_constraint("uq_item_code", ["code"])
        batch_op.drop_column("county")
