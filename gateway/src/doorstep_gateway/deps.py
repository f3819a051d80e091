"""Dependencies of the gateway's routes: what they need from the app state, typed."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from doorstep_shared.app import DbSession
from doorstep_shared.auth.security import require
from doorstep_shared.auth.tokens import Principal, TokenSigner, TokenVerifier
from doorstep_shared.directory import Directory
from doorstep_shared.pii import PiiCipher

from .config import GatewaySettings
from .directory import service as directory_service
from .state import state_of


async def current_settings(request: Request) -> GatewaySettings:
    return state_of(request).settings


async def current_signer(request: Request) -> TokenSigner:
    return state_of(request).signer


async def current_verifier(request: Request) -> TokenVerifier:
    return state_of(request).verifier


async def current_pii(request: Request) -> PiiCipher:
    return state_of(request).pii


Settings = Annotated[GatewaySettings, Depends(current_settings)]
Signer = Annotated[TokenSigner, Depends(current_signer)]
Verifier = Annotated[TokenVerifier, Depends(current_verifier)]
Pii = Annotated[PiiCipher, Depends(current_pii)]


async def current_directory(request: Request, session: DbSession) -> Directory:
    """The active directory (the app's copy, rebuilt when the stored one moved)."""
    return await directory_service.current(session, state_of(request).directory)


CurrentDirectory = Annotated[Directory, Depends(current_directory)]


async def directory_of(request: Request) -> Directory:
    """The active directory, for code that runs without the request's session."""
    state = state_of(request)
    async with state.sessionmaker() as session:
        return await directory_service.current(session, state.directory)


def require_in_county(*permissions: str) -> Callable[..., Awaitable[Principal]]:
    """``require(*permissions)``, the caller resolved against the directory as stored now: a
    county role sees the communities of its county, one created on another replica included
    (the verifier resolves against this replica's last-built copy)."""
    allowed = require(*permissions)

    async def check(principal: Principal, directory: Directory) -> Principal:
        return principal.within(directory)

    # the annotations name a local dependency (``allowed``): given as objects, not strings
    keyword = inspect.Parameter.KEYWORD_ONLY
    check.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("principal", keyword, annotation=Annotated[Principal, Depends(allowed)]),
            inspect.Parameter("directory", keyword, annotation=CurrentDirectory),
        ],
        return_annotation=Principal,
    )
    return check
