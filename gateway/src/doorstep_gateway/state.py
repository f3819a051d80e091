"""The gateway's ``app.state`` as one typed object, and how routes reach it.

``create_service_app`` (doorstep_shared) fills what every app has (:class:`AppState`): the
settings and metrics when it builds the app, the database, the token verifier and the plain HTTP
client in its lifespan. The gateway adds what it makes before the app exists: the token signer
and JWKS, the upstream pools, the merged-docs cache and the catalogue cache.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.requests import HTTPConnection

from doorstep_shared.app import AppState
from doorstep_shared.auth.tokens import TokenSigner
from doorstep_shared.directory import Directory
from doorstep_shared.http.conditional import Copy
from doorstep_shared.pii import PiiCipher

from .config import GatewaySettings
from .directory.snapshot import DirectoryCopy
from .docs.merge import MergedOpenAPI
from .forwarding.pool import Upstreams
from .forwarding.schemas import CatalogView


class GatewayState(AppState):
    """``app.state`` of the gateway, made before the app (its middleware holds it)."""

    settings: GatewaySettings
    signer: TokenSigner
    jwks: dict[str, Any]
    upstreams: Upstreams
    pii: PiiCipher  # staff phones at rest (made in the lifespan)
    openapi_docs: MergedOpenAPI
    # The published catalogue as last read (Open311, reports), per county handbook the callers
    # read (``forwarding.service_calls.handbook_key``); revalidated by ETag on every use.
    catalog_views: dict[str, Copy[CatalogView]]
    # The active directory as last built (runtime reads go through directory.service.current).
    directory: DirectoryCopy

    def __init__(self, *, signer: TokenSigner, jwks: dict[str, Any], upstreams: Upstreams) -> None:
        super().__init__()
        self.signer = signer
        self.jwks = jwks
        self.upstreams = upstreams
        self.openapi_docs = MergedOpenAPI()
        self.catalog_views = {}
        self.directory = DirectoryCopy()

    def tenancy_directory(self) -> Directory | None:
        """The directory as last built (every directory read rebuilds it when a write moved it;
        routes that hold the current directory resolve the caller against it again)."""
        return self.directory.directory


def state_of(holder: HTTPConnection | FastAPI) -> GatewayState:
    """The gateway's state, from a request to it (or from the app)."""
    return GatewayState.of(holder)
