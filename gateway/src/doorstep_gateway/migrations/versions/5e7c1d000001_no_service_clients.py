"""the services' own identities leave the client registry

They are keys from the deployment now (doorstep_shared.auth.service_keys): the rows a previous
release made for them (``svc.proxy``) could be listed, rotated and revoked by any client
manager, which took the proxy's catalogue down. The rows go; the registry also treats the
``svc.`` prefix as absent, for a row an old replica re-creates during the rolling upgrade.
Downgrade recreates nothing: the previous release re-creates its service client at start-up
from ``DOORSTEP_GATEWAY_SERVICE_CLIENT_SECRETS``.

Revision ID: 5e7c1d000001
Revises: a0d17c4a0004
Create Date: 2026-12-03 16:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e7c1d000001"
down_revision: str | None = "a0d17c4a0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    api_client = sa.table("api_client", sa.column("client_id", sa.String))
    op.execute(sa.delete(api_client).where(api_client.c.client_id.like("svc.%")))


def downgrade() -> None:
    pass
