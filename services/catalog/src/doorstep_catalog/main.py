"""The catalog app: the generalist's handbook (全科社工手册)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from doorstep_shared.app import create_service_app
from doorstep_shared.auth.tokens import KeySet
from doorstep_shared.db.audit import audit_router
from doorstep_shared.directory import Directory
from doorstep_shared.directory_copy import directory_copy, following
from doorstep_shared.search import FuzzyPinyin

from .audit import audit_log
from .config import CatalogSettings, get_settings
from .counties import only_county
from .eligibility import router as eligibility
from .items import router as items
from .items import service as items_service
from .items.index import CatalogIndex
from .search import router as search
from .search import service as search_service
from .search.service import SearchSources
from .state import CatalogState
from .tips import router as tips
from .versions import router as versions

TAGS = [
    {"name": "items", "description": "Service items (办事指南) and categories"},
    {"name": "search", "description": "What searches missed, and turning a miss into an alias"},
    {"name": "versions", "description": "Published versions and the changes feed"},
    {"name": "eligibility", "description": "Who qualifies for what, and why"},
    {"name": "tips", "description": "Practical tips (实战窍门)"},
    {"name": "briefings", "description": "Morning briefings (晨会)"},
    {"name": "audit", "description": "The catalog's append-only audit log of admin edits"},
]


def create_app(settings: CatalogSettings | None = None, *, key_set: KeySet | None = None) -> FastAPI:
    settings = settings or get_settings()
    state = CatalogState()
    # In-memory search index and compiled rules; rebuilt when the catalogue's revision moves.
    state.catalog_index = CatalogIndex(
        SearchSources(),
        FuzzyPinyin(tuple(settings.search_fuzzy_pinyin)),
        check_interval=settings.revision_check_ms / 1000,
    )
    state.search_log = search_service.search_log(lambda: state.sessionmaker)

    async def claim_unassigned(_before: Directory | None, directory: Directory) -> None:
        """Rows from before counties (the migration leaves them without one) join the
        deployment's county once the directory names exactly one; with several, they wait."""
        county = only_county(directory)
        if county is None:
            return
        async with state.sessionmaker() as session:
            await items_service.claim_unassigned(session, county)
            await search_service.claim_unassigned(session, county)
            await session.commit()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.directory = directory_copy(settings, state.http, state.dependencies)
        state.directory.on_change(claim_unassigned)
        await state.directory.refresh()
        try:
            async with following(state.directory, settings).running():
                yield
        finally:
            await state.catalog_index.close()

    return create_service_app(
        settings=settings,
        title="Doorstep catalog",
        description="The generalist's handbook: service items, materials, procedures, rules and tips.",
        package="doorstep_catalog",
        routers=[
            search.router,
            items.router,
            versions.router,
            eligibility.router,
            tips.router,
            tips.sheet_router,
            audit_router("/api/v1/catalog/audit", audit_log),
        ],
        key_set=key_set,
        openapi_tags=TAGS,
        state=state,
        audit_log=audit_log,
        extra_lifespan=lifespan,
    )
