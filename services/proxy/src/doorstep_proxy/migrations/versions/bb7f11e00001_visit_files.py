"""visit files: photos and scans taken on a visit, sealed in parts with the PII keys

Revision ID: bb7f11e00001
Revises: aa7f11e00001
Create Date: 2026-12-04 04:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "bb7f11e00001"
down_revision: str | None = "aa7f11e00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proxy_visit_file",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("community", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("grid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("stored_size", sa.Integer(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("has_thumbnail", sa.Boolean(), nullable=False),
        sa.Column("pii_kid", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["proxy_visit.id"], name=op.f("fk_proxy_visit_file_visit_id_proxy_visit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxy_visit_file")),
    )
    with op.batch_alter_table("proxy_visit_file", schema=None) as batch_op:
        batch_op.create_index("ix_proxy_visit_file_visit_created", ["visit_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_proxy_visit_file_community"), ["community"], unique=False)
        batch_op.create_index(batch_op.f("ix_proxy_visit_file_pii_kid"), ["pii_kid"], unique=False)

    op.create_table(
        "proxy_visit_file_part",
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("offset", sa.Integer(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["proxy_visit_file.id"],
            name=op.f("fk_proxy_visit_file_part_file_id_proxy_visit_file"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", "kind", "offset", name=op.f("pk_proxy_visit_file_part")),
    )


def downgrade() -> None:
    op.drop_table("proxy_visit_file_part")
    with op.batch_alter_table("proxy_visit_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proxy_visit_file_pii_kid"))
        batch_op.drop_index(batch_op.f("ix_proxy_visit_file_community"))
        batch_op.drop_index("ix_proxy_visit_file_visit_created")
    op.drop_table("proxy_visit_file")
