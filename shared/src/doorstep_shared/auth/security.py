"""FastAPI dependencies for authentication and permissions, shared by every app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPBearer, OAuth2PasswordBearer

from ..http.errors import Forbidden, Unauthorized
from .tokens import Principal, TokenVerifier

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 (a path, not a secret)

# What a token of a staff member who must enrol a second factor (and has not) may reach.
MFA_ENROLLMENT_PATHS = frozenset({"/api/v1/auth/mfa/enroll", "/api/v1/auth/mfa/confirm", "/api/v1/auth/me"})

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, scheme_name="OAuth2", auto_error=False)
# The same ``Authorization: Bearer`` header, declared a second way so /docs can take a pasted token:
# staff with two factors get one from the token operation (with ``otp``), which the OAuth2
# password dialog cannot send.
bearer_scheme = HTTPBearer(
    scheme_name="BearerToken",
    bearerFormat="JWT",
    description="An access token from POST /api/v1/auth/token (with `otp` for accounts with two factors)",
    auto_error=False,
)


async def get_verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.verifier
    return verifier


async def current_principal(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    """The verified caller; 401 problem+json without a valid bearer token.

    One dependency below it, not three: the ``Authorization: Bearer`` header is read once (the
    ``BearerToken`` scheme /docs offers is the same header, added to the document by
    :func:`document_bearer_token`), and the verifier comes from the app's state. Every
    authenticated request solves this tree, so each node counts (issue #23)."""
    if not token:
        raise Unauthorized("A bearer token is required.", code="missing_token")
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify(token)
    if principal.mfa_enrollment and request.url.path not in MFA_ENROLLMENT_PATHS:
        raise Forbidden(
            "Your role requires two-factor sign-in: enrol first (POST /api/v1/auth/mfa/enroll).",
            code="mfa_enrollment_required",
        )
    request.state.principal = principal
    return principal


def document_bearer_token(doc: dict[str, Any]) -> None:
    """Offer the ``BearerToken`` scheme (a pasted token, for staff with two factors) wherever
    the document asks for ``OAuth2``: both are the same ``Authorization: Bearer`` header, which
    :func:`current_principal` reads once."""
    oauth2: dict[str, list[str]] = {oauth2_scheme.scheme_name: []}
    pasted: dict[str, list[str]] = {bearer_scheme.scheme_name: []}
    found = False
    for item in doc.get("paths", {}).values():
        for op in item.values():
            security = op.get("security") if isinstance(op, dict) else None
            if security and oauth2 in security and pasted not in security:
                security.insert(security.index(oauth2) + 1, pasted)
                found = True
    if found:
        schemes = doc.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes[bearer_scheme.scheme_name] = bearer_scheme.model.model_dump(
            mode="json", by_alias=True, exclude_none=True
        )


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*permissions: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets the call through only if the caller holds every permission. It
    verifies the token itself (``current_principal`` called, not depended on): one node less in
    the tree FastAPI solves on every request of a permission-checked route."""

    async def check(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
        principal = await current_principal(request, token)
        missing = [p for p in permissions if not principal.has(p)]
        if missing:
            raise Forbidden(
                f"Missing permission: {', '.join(missing)}.",
                code="missing_permission",
                missing=missing,
            )
        return principal

    check.__doorstep_permissions__ = tuple(permissions)  # type: ignore[attr-defined]
    check.__name__ = "require_" + "_".join(p.replace(":", "_") for p in permissions)
    return check


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that needs one of the given roles (prefer ``require`` with a permission)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.roles.intersection(roles):
            raise Forbidden(f"One of these roles is required: {', '.join(roles)}.", code="missing_role")
        return principal

    check.__doorstep_permissions__ = tuple(f"role:{r}" for r in roles)  # type: ignore[attr-defined]
    return check


def require_scopes(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """Same as ``require``: scopes of machine clients are permissions of the same names."""
    return require(*scopes)


async def authenticated(principal: CurrentPrincipal) -> Principal:
    """Any signed-in caller, whatever their permissions (e.g. "who am I")."""
    return principal


authenticated.__doorstep_permissions__ = ("authenticated",)  # type: ignore[attr-defined]


async def public() -> None:
    """Marks a route as deliberately open (health, metrics, docs, token endpoint)."""


public.__doorstep_permissions__ = ("public",)  # type: ignore[attr-defined]


def declared_permissions(route: Any) -> set[str]:
    """Permissions a route declares (through its dependencies, recursively)."""
    return _declared_by(getattr(route, "dependant", None))


def _declared_by(dependant: Dependant | None) -> set[str]:
    found: set[str] = set()
    stack = [dependant]
    while stack:
        dep = stack.pop()
        if dep is None:
            continue
        call = getattr(dep, "call", None)
        found.update(getattr(call, "__doorstep_permissions__", ()))
        stack.extend(dep.dependencies)
    return found


class AuthenticatedRoute(APIRoute):
    """The routes of :func:`authenticated_router`: the router's ``current_principal`` is dropped
    from a route that declares a permission of its own (``require``, ``require_roles``,
    ``authenticated``, a webhook caller), because that dependency verifies the token itself.
    A route that declares nothing, or only ``public``, keeps it: authenticated by default."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        dependencies: list[DependsParam] = list(options.pop("dependencies", None) or [])
        own = [d for d in dependencies if d.dependency is not current_principal]
        if own != dependencies and _authenticates(path, endpoint, own):
            dependencies = own
        super().__init__(path, endpoint, dependencies=dependencies, **options)


def _authenticates(path: str, endpoint: Callable[..., Any], dependencies: list[DependsParam]) -> bool:
    declared = _declared_by(get_dependant(path=path, call=endpoint))
    for depends in dependencies:
        if depends.dependency is not None:
            declared |= _declared_by(get_dependant(path=path, call=depends.dependency))
    return bool(declared) and "public" not in declared


def authenticated_router(**options: Any) -> APIRouter:
    """A router whose routes are authenticated by default (``current_principal``), without
    solving the token check twice: a route that declares its permission (the rule of
    ``tests/test_route_permissions.py``) verifies the token in that dependency only
    (:class:`AuthenticatedRoute`). Every node of the dependency tree is solved on every request,
    cached or not; two of seven on a catalogue item read were this duplicate (issue #23)."""
    return APIRouter(dependencies=[Depends(current_principal)], route_class=AuthenticatedRoute, **options)


def iter_api_routes(app: Any) -> list[Any]:
    """Every APIRoute of an app's API (including those of included routers): the operations of
    its OpenAPI document. The documentation pages (``/docs``, ``/redoc``) are not API routes."""
    return [
        rc.route
        for rc in iter_route_contexts(app.routes)
        if isinstance(rc.route, APIRoute) and rc.route.include_in_schema
    ]
