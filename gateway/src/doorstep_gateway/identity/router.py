"""Identity routes: the OAuth2 token endpoint, revocation, who-am-I and the JWKS."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request

from doorstep_shared.app import DbSession
from doorstep_shared.auth.security import authenticated, public
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems

from ..config import DEFAULT_DEMO_PASSWORD
from ..deps import Pii, Settings, Signer, Verifier
from ..state import state_of
from . import own_password, service
from .errors import InvalidClient, InvalidGrant, UnsupportedGrant
from .schemas import (
    Activated,
    ActivationRequest,
    Me,
    MfaCode,
    MfaEnrolment,
    PasswordChange,
    PasswordChanged,
    RecoveryCodes,
    RevokeAll,
    SessionRead,
    SessionsEnded,
    TokenResponse,
)
from .throttle import LoginPolicy

auth_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
wellknown_router = APIRouter(tags=["auth"], dependencies=[Depends(public)])


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """A machine client's ``Authorization: Basic`` (RFC 6749 §2.3.1), read here rather than by a
    declared HTTP Basic security scheme: that scheme would stand first in /docs' Authorize
    dialog although no other operation takes it (client_id/client_secret form fields work too)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient() from None
    cid, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient()
    return cid, secret


@auth_router.post(
    "/token",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    summary="OAuth2 token endpoint (password, refresh_token, client_credentials)",
    description="Form-encoded (RFC 6749). A machine client authenticates with HTTP Basic "
    "(`Authorization: Basic base64(client_id:client_secret)`) or with the client_id and "
    "client_secret form fields.",
    dependencies=[Depends(public)],
    responses=problems(
        described={
            400: "Wrong credentials or refresh token (invalid_grant)",
            401: "Machine client refused (invalid_client); two-factor code missing (mfa_required) or wrong "
            "(mfa_invalid); the password is right but expired (password_expired: change it at "
            "POST /api/v1/auth/password)",
            422: "Invalid form",
        }
    ),
)
async def token(
    request: Request,
    session: DbSession,
    settings: Settings,
    signer: Signer,
    verifier: Verifier,
    pii: Pii,
    grant_type: Annotated[
        str, Form(max_length=40, description="password | refresh_token | client_credentials", examples=["password"])
    ],
    username: Annotated[str | None, Form(max_length=64, examples=["chaoyang.worker"])] = None,
    password: Annotated[str | None, Form(max_length=256, examples=[DEFAULT_DEMO_PASSWORD])] = None,
    refresh_token: Annotated[
        str | None,
        Form(
            max_length=4096,
            examples=["eyJhbGciOiJFZERTQSIsImtpZCI6ImtleS0xIn0.eyJzdWIiOiJjaGFveWFuZy53b3JrZXIifQ.c2lnbmF0dXJl"],
        ),
    ] = None,
    client_id: Annotated[str | None, Form(max_length=64, examples=["demo.platform"])] = None,
    client_secret: Annotated[str | None, Form(max_length=256, examples=[DEFAULT_DEMO_PASSWORD])] = None,
    scope: Annotated[str | None, Form(max_length=1000, examples=["catalog:read demands:write"])] = None,
    otp: Annotated[
        str | None,
        Form(
            max_length=64,
            description="Accounts with two factors: the authenticator's 6-digit code, or one unused recovery code",
            examples=["492039"],
        ),
    ] = None,
    device_id: Annotated[
        str | None,
        Form(
            max_length=64, description="The client's stable label for this device (sessions list)", examples=["a1f3c9"]
        ),
    ] = None,
    device_name: Annotated[
        str | None,
        Form(
            max_length=100, description="A name people recognise the device by (sessions list)", examples=["工作手机"]
        ),
    ] = None,
) -> dict[str, object]:
    address = request.client.host if request.client else None
    if grant_type == "password":
        if not username or password is None:
            raise InvalidGrant("username and password are required.")
        return await service.password_grant(
            session,
            signer,
            username,
            password,
            address=address,
            policy=LoginPolicy.of(settings),
            cipher=pii,
            mfa_roles=settings.mfa_roles,
            otp=otp or None,
            device=service.Device(address=address, device_id=device_id or None, device_name=device_name or None),
            session_policies=settings.role_session_policies,
            dormant_days=settings.dormant_account_days,
            password_max_age=settings.role_password_max_age,
        )
    if grant_type == "refresh_token":
        if not refresh_token:
            raise InvalidGrant("refresh_token is required.")
        return await service.refresh_grant(
            session,
            signer,
            verifier,
            refresh_token,
            mfa_roles=settings.mfa_roles,
            address=address,
            session_policies=settings.role_session_policies,
        )
    if grant_type == "client_credentials":
        basic = _basic_credentials(request)
        cid, secret = basic if basic else (client_id, client_secret)
        if not cid or not secret:
            raise InvalidClient()
        return await service.client_credentials_grant(session, signer, cid, secret, scope, address=address)
    raise UnsupportedGrant(f"grant_type {grant_type!r} is not supported.", error="unsupported_grant_type")


@auth_router.post(
    "/revoke",
    status_code=200,
    summary="Revoke a refresh token (RFC 7009): ends that login's token family",
    dependencies=[Depends(public)],
    responses=problems(422),
)
async def revoke(
    session: DbSession,
    verifier: Verifier,
    token: Annotated[
        str,
        Form(
            max_length=4096,
            examples=["eyJhbGciOiJFZERTQSIsImtpZCI6ImtleS0xIn0.eyJzdWIiOiJjaGFveWFuZy53b3JrZXIifQ.c2lnbmF0dXJl"],
        ),
    ],
    token_type_hint: Annotated[str | None, Form(max_length=40, examples=["refresh_token"])] = None,
) -> dict[str, str]:
    await service.revoke(session, verifier, token)
    return {"status": "revoked"}


@auth_router.post(
    "/activate",
    response_model=Activated,
    summary="Set your own password with the one-time activation code an admin gave you",
    dependencies=[Depends(public)],
    responses=problems(400, 422),
)
async def activate(request: Request, body: ActivationRequest, session: DbSession, settings: Settings) -> Activated:
    user = await own_password.activate(
        session,
        body.username,
        body.activation_code,
        body.new_password,
        address=request.client.host if request.client else None,
        policy=LoginPolicy.of(settings),
    )
    return Activated(username=user.username)


@auth_router.post(
    "/password",
    response_model=PasswordChanged,
    summary="Change your own password (no token needed, so an expired password can be changed)",
    description="Checked as a sign-in is: the same throttle, answers and cost (a wrong current password is "
    "400 `invalid_grant`; an account with two factors also needs `otp`). The new password follows the "
    "activation rules and differs from the current one (422 `weak_password` naming `body.new_password`). "
    "Every session of the account ends: sign in again with the new password.",
    dependencies=[Depends(public)],
    responses=problems(
        described={
            400: "Wrong username or current password, or too many attempts (invalid_grant)",
            401: "Two-factor code missing (mfa_required) or wrong (mfa_invalid)",
            422: "Invalid body, or the new password is refused (weak_password)",
        }
    ),
)
async def change_password(
    request: Request, body: PasswordChange, session: DbSession, settings: Settings, pii: Pii
) -> PasswordChanged:
    given = service.Credentials(
        body.username,
        body.current_password,
        body.otp or None,
        request.client.host if request.client else None,
        via="password_change",
    )
    user = await own_password.change_password(
        session,
        given,
        body.new_password,
        policy=LoginPolicy.of(settings),
        cipher=pii,
        dormant_days=settings.dormant_account_days,
    )
    return PasswordChanged(username=user.username)


@auth_router.get("/me", response_model=Me, summary="Who the bearer token says you are", responses=problems(401))
async def me(principal: Annotated[Principal, Depends(authenticated)]) -> Me:
    return Me(
        subject=principal.subject,
        kind=principal.kind,
        name=principal.name,
        roles=sorted(principal.roles),
        scopes=sorted(principal.scopes),
        permissions=sorted(principal.permissions),
        county=principal.county,
        community=principal.community,
        grid=principal.grid,
        communities=sorted(principal.communities),
        expires_at=principal.expires_at,
    )


Staff = Annotated[Principal, Depends(authenticated)]


@auth_router.post(
    "/mfa/enroll",
    response_model=MfaEnrolment,
    summary="Start two-factor sign-in: a new authenticator secret, its otpauth URI and QR code (SVG)",
    description="Scan the QR code (or type the secret) into an authenticator app, then confirm with its "
    "first code (`POST /api/v1/auth/mfa/confirm`). Until confirmed, sign-in does not ask for codes. "
    "Reachable with the restricted token an account gets when its role requires two factors.",
    responses=problems(401, 403, 409),
)
async def mfa_enroll(session: DbSession, pii: Pii, principal: Staff) -> MfaEnrolment:
    enrolment = await service.mfa_enroll(session, pii, principal)
    return MfaEnrolment(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_svg=enrolment.qr_svg)


@auth_router.post(
    "/mfa/confirm",
    response_model=RecoveryCodes,
    summary="Confirm the authenticator with its current code: two factors on, ten recovery codes (shown once)",
    description="From now on the password grant needs `otp`. A restricted (enrolment-only) token stays "
    "restricted: sign in again with `otp` for a full one.",
    responses=problems(401, 403, 409, 422),
)
async def mfa_confirm(body: MfaCode, session: DbSession, pii: Pii, principal: Staff) -> RecoveryCodes:
    return RecoveryCodes(recovery_codes=await service.mfa_confirm(session, pii, principal, body.code.strip()))


@auth_router.post(
    "/mfa/disable",
    summary="Turn two-factor sign-in off (needs the authenticator's current code)",
    responses=problems(401, 403, 409, 422),
)
async def mfa_disable(body: MfaCode, session: DbSession, pii: Pii, principal: Staff) -> dict[str, str]:
    await service.mfa_disable(session, pii, principal, body.code.strip())
    return {"status": "disabled"}


SessionId = Annotated[str, Path(max_length=64)]


@auth_router.get(
    "/sessions",
    response_model=list[SessionRead],
    summary="Your sessions: every device signed in, since when, last seen when and from where",
    responses=problems(401, 403),
)
async def my_sessions(session: DbSession, principal: Staff) -> list[SessionRead]:
    service.staff_only(principal)
    return SessionRead.listed(await service.sessions_of(session, principal.subject), principal.session_id)


@auth_router.delete(
    "/sessions/{session_id}",
    status_code=204,
    summary="End one of your sessions: its refresh fails at once, its access token dies at expiry (≤ 15 min)",
    responses=problems(401, 403, 404),
)
async def end_my_session(session_id: SessionId, session: DbSession, principal: Staff) -> None:
    service.staff_only(principal)
    await service.end_session(session, principal, principal.subject, session_id, community=principal.community)


@auth_router.post(
    "/sessions/revoke-all",
    response_model=SessionsEnded,
    summary="Sign out everywhere (optionally keeping this session)",
    responses=problems(401, 403, 422),
)
async def end_all_my_sessions(body: RevokeAll, session: DbSession, principal: Staff) -> SessionsEnded:
    service.staff_only(principal)
    return SessionsEnded(ended=await service.end_all_sessions(session, principal, keep_current=body.keep_current))


@wellknown_router.get("/.well-known/jwks.json", summary="Public keys that verify Doorstep tokens (JWKS)")
async def jwks(request: Request) -> dict[str, Any]:
    return state_of(request).jwks
