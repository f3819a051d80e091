"""Dependencies of the gateway's routes: what they need from the app state, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from doorstep_shared.app import DbSession
from doorstep_shared.auth.tokens import TokenSigner, TokenVerifier
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
