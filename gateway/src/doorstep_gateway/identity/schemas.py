"""Identity API shapes: the token endpoint's answer and who-am-I."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int
    refresh_token: str | None = None
    scope: str | None = None


class ActivationRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "chaoyang.worker2",
                    "activation_code": "K7QX2M9PLR4TWZ8N",
                    "new_password": "Stairwell-Signal-7",
                }
            ]
        },
    )

    username: str = Field(min_length=1, max_length=64)
    activation_code: str = Field(min_length=1, max_length=64, description="The one-time code an admin was shown")
    new_password: str = Field(
        max_length=256, description="At least 10 characters, not the username, not a common password"
    )


class PasswordChange(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "chaoyang.worker",
                    "current_password": "doorstep-demo",
                    "new_password": "Stairwell-Signal-7",
                },
                {
                    "username": "county.admin",
                    "current_password": "doorstep-demo",
                    "new_password": "Lantern-Ferry-2031",
                    "otp": "492039",
                },
            ]
        },
    )

    username: str = Field(min_length=1, max_length=64)
    current_password: str = Field(max_length=256, description="The password in use (it may have expired)")
    new_password: str = Field(
        max_length=256,
        description="At least 10 characters, not the username, not a common password, not the current one",
    )
    otp: str | None = Field(
        None,
        max_length=64,
        pattern=r"^[0-9A-Za-z\- ]*$",
        description="Accounts with two factors: the authenticator's current code, or one unused recovery code",
    )


class PasswordChanged(BaseModel):
    username: str
    status: str = "password_changed"
    sessions_ended: bool = Field(True, description="Every session of the account ended: sign in again")


class Activated(BaseModel):
    username: str
    status: str = "activated"


class Me(BaseModel):
    subject: str = Field(description="Username for staff, client id for machine clients")
    kind: str
    name: str
    roles: list[str]
    scopes: list[str]
    permissions: list[str]
    county: str | None
    community: str | None
    grid: str | None
    communities: list[str]
    expires_at: float


class MfaEnrolment(BaseModel):
    secret: str = Field(description="The TOTP secret (base32) for typing into an authenticator app by hand")
    otpauth_uri: str = Field(description="otpauth:// URI (RFC 6238 parameters) the QR code holds")
    qr_svg: str = Field(description="The QR code as an SVG document, rendered by the gateway")


class MfaCode(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "492039"}]})

    code: str = Field(min_length=6, max_length=8, pattern=r"^\s*\d{6,8}\s*$", description="The authenticator's code")


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(
        description="Ten one-time codes for signing in without the phone (in place of otp): shown only now"
    )


class SessionRead(BaseModel):
    """One sign-in (a refresh-token family) as its holder or their admin sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    device_id: str | None = Field(description="The client's own label for the device (device_id at sign-in)")
    device_name: str | None = Field(description="A readable device name the client sent (device_name at sign-in)")
    first_address: str | None = Field(description="The address it signed in from")
    last_address: str | None = Field(description="The address of its latest refresh")
    created_at: dt.datetime
    last_seen_at: dt.datetime = Field(description="Sign-in or latest refresh")
    expires_at: dt.datetime = Field(description="When its refresh token runs out unless refreshed")
    current: bool = Field(False, description="The session of the token that asked")

    @classmethod
    def listed(cls, sessions: Iterable[Any], current: str | None) -> list[SessionRead]:
        """The sessions as shown, the asking token's own marked ``current``."""
        views = [cls.model_validate(s) for s in sessions]
        for view in views:
            view.current = view.id == current
        return views


class RevokeAll(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"keep_current": True}]})

    keep_current: bool = Field(False, description="Keep the session of the token that asks (sign out everywhere else)")


class SessionsEnded(BaseModel):
    ended: int
