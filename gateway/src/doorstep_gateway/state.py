"""The gateway's ``app.state`` as one typed object, and how routes reach it.

``create_service_app`` (doorstep_shared) fills part of it: the settings and metrics when it
builds the app, the database, the token verifier and the plain HTTP client in its lifespan. The
gateway adds what it makes before the app exists: the token signer and JWKS, the upstream pools,
the merged-docs cache and the catalogue cache.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import State

from doorstep_shared.auth.tokens import KeySet, TokenSigner, TokenVerifier
from doorstep_shared.http.health import Dependencies
from doorstep_shared.http.observability import Metrics

from .config import GatewaySettings
from .docs.merge import MergedOpenAPI
from .forwarding.pool import Upstreams
from .forwarding.schemas import CatalogView


class GatewayState(State):
    """``app.state`` of the gateway. Attributes are annotated, never given class-level values:
    ``State`` keeps them in its own dict, which a class attribute would shadow."""

    # Put here by create_service_app.
    settings: GatewaySettings
    metrics: Metrics
    dependencies: Dependencies
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    key_set: KeySet
    verifier: TokenVerifier

    # The gateway's own.
    signer: TokenSigner
    jwks: dict[str, Any]
    upstreams: Upstreams
    openapi_docs: MergedOpenAPI
    # The published catalogue as last read (Open311, reports); revalidated by ETag on every use.
    catalog_view: CatalogView | None

    def __init__(self, *, signer: TokenSigner, jwks: dict[str, Any], upstreams: Upstreams) -> None:
        super().__init__()
        self.signer = signer
        self.jwks = jwks
        self.upstreams = upstreams
        self.openapi_docs = MergedOpenAPI()
        self.catalog_view = None

    def install(self, app: FastAPI) -> None:
        """Become ``app.state``, keeping what create_service_app already put on the plain one."""
        for name in app.state:
            self[name] = app.state[name]
        app.state = self

    @staticmethod
    def of(app: FastAPI) -> GatewayState:
        state = app.state
        assert isinstance(state, GatewayState), "create_app installs the gateway's state"
        return state


def state_of(request: Request) -> GatewayState:
    """The gateway's state, from a request to it."""
    state: GatewayState = request.app.state
    return state
