"""Who calls an Open311 route: a bearer token, the GeoReport ``api_key``, or (where public) nobody.

GeoReport v2 clients send ``api_key`` as a query parameter or, on POST, as a form field, and
most of them list services without any key. So the catalogue routes (discovery, service list,
service definition) are public: a caller without credentials reads them as ``PUBLIC``, a
principal that holds ``catalog:read`` and nothing else, so it gets the published catalogue and
nothing more. Service requests need a credential: the bearer token as everywhere, or the
``api_key`` the client registry issued to a machine client, which stands for that client exactly
as its client-credentials token would (``clients.service.principal_of``: its scopes, its
communities, its quota, its IP allow-list).

The services trust bearer tokens only, so for an api_key caller (and a public one) the gateway
signs a short-lived access token for that principal and the calls to the services carry it
(``forwarding.service_calls.CALLER_AUTHORIZATION``). Calls without a bearer token are counted
here, once the caller is known (``forwarding.ratelimit``): a key's calls against its client's
quota, anonymous ones against the per-address limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import oauth2_scheme
from doorstep_shared.auth.tokens import Principal

from ..clients import service as client_registry
from ..forwarding.service_calls import CALLER_AUTHORIZATION
from ..state import state_of
from .render import Open311Error

API_KEY = "api_key"
PUBLIC = Principal(
    subject="open311.public",
    kind="client",
    name="Open311 public catalogue",
    scopes=frozenset({Permission.CATALOG_READ}),
    permissions=frozenset({Permission.CATALOG_READ}),
)
ApiKeyQuery = Annotated[
    str | None,
    Query(
        alias=API_KEY,
        description="The API key the county issued to your client (or send a bearer token; on POST also a form field)",
    ),
]
MAX_KEY = 200  # checked here, not by Query(max_length): a refused parameter would skip the rate limit
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def _api_key_of(request: Request, key: str | None) -> str | None:
    """The ``api_key`` query parameter, or on POST the form (or JSON) field of that name."""
    if key is None and request.method == "POST":
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if kind in FORM_TYPES:
                value = (await request.form(max_files=0, max_fields=200)).get(API_KEY)
                key = value if isinstance(value, str) else None
            elif kind == "application/json":
                body = await request.json()
                key = body.get(API_KEY) if isinstance(body, dict) and isinstance(body.get(API_KEY), str) else None
        except Exception:  # an unreadable body is reported by read_submission, as the spec's error
            key = None
    return key.strip()[:MAX_KEY] if key and key.strip() else None  # a longer one is wrong (403, counted)


async def _client_by_key(request: Request, key: str) -> Principal:
    state = state_of(request)
    async with state.sessionmaker() as session:
        client = await client_registry.authenticate_api_key(session, key)
    if client is None:
        raise Open311Error(403, "api_key is invalid (unknown, replaced or revoked).")
    if not client_registry.ip_allowed(client, request.client.host if request.client else None):
        raise Open311Error(403, "api_key is not accepted from this address.")
    return client_registry.principal_of(client)


async def _admit(request: Request, principal: Principal | None) -> None:
    limiter = request.scope.get("state", {}).get("rate_limit")
    if limiter is None:
        return
    retry_after = await limiter.admit(request.scope, principal)
    if retry_after is not None:
        raise Open311Error(
            429, f"Too many requests; retry after {retry_after} s.", headers={"Retry-After": str(retry_after)}
        )


async def _caller(request: Request, token: str | None, query_key: str | None, *, public: bool) -> Principal:
    if token:
        principal = await state_of(request).verifier.verify(token)
        request.state.principal = principal
        return principal
    key = await _api_key_of(request, query_key)
    if key is None and not public:
        await _admit(request, None)
        raise Open311Error(403, "api_key was not provided (or send a bearer token).")
    try:
        principal = PUBLIC if key is None else await _client_by_key(request, key)
    except Exception:  # a wrong key (or a failed look-up) counts against the address
        await _admit(request, None)
        raise
    await _admit(request, None if principal is PUBLIC else principal)
    access, _ = state_of(request).signer.access_token(principal)
    request.state.principal = principal
    setattr(request.state, CALLER_AUTHORIZATION, f"Bearer {access}")
    return principal


def caller(permission: str, *, public: bool = False) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller (bearer token, api_key, or on a public route nobody), holding ``permission``."""

    async def check(
        request: Request, token: Annotated[str | None, Depends(oauth2_scheme)], api_key: ApiKeyQuery = None
    ) -> Principal:
        principal = await _caller(request, token, api_key, public=public)
        if not principal.has(permission):
            raise Open311Error(403, f"These credentials do not allow this call (missing {permission}).")
        return principal

    check.__doorstep_permissions__ = ("public", permission) if public else (permission,)  # type: ignore[attr-defined]
    check.__name__ = f"open311_{'public_' if public else ''}{permission.replace(':', '_')}"
    return check
