"""The token endpoint's OAuth2 errors (RFC 6749 §5.2): problem+json that also carries ``error``."""

from __future__ import annotations

from doorstep_shared.http.errors import DoorstepError


class InvalidGrant(DoorstepError):
    """OAuth2 ``invalid_grant``: wrong credentials, locked account, bad or reused refresh token."""

    status = 400
    code = "invalid_grant"
    title = "Invalid grant"
    keep_changes = True  # failure counters and family revocations must persist

    def __init__(self, detail: str = "Invalid credentials.") -> None:
        super().__init__(detail, error="invalid_grant", error_description=detail)


class ReusedRefreshToken(InvalidGrant):
    def __init__(self) -> None:
        super().__init__("Refresh token was already used; every token of this login is now revoked.")


class InvalidClient(DoorstepError):
    status = 401
    code = "invalid_client"
    title = "Invalid client"
    keep_changes = True  # the failed attempt stays in the audit log

    def __init__(self, detail: str = "Client authentication failed.") -> None:
        super().__init__(
            detail,
            error="invalid_client",
            error_description=detail,
            headers={"WWW-Authenticate": "Basic"},
        )


class UnsupportedGrant(DoorstepError):
    status = 400
    code = "unsupported_grant_type"
    title = "Unsupported grant type"


class InvalidScope(DoorstepError):
    code = "invalid_scope"  # status and title stay the base's (400, "Bad request")

    def __init__(self) -> None:
        super().__init__("Requested scope exceeds the client's grant.", error="invalid_scope")


class ActivationInvalid(DoorstepError):
    """No pending activation for this username and code (unknown user, wrong or used code,
    throttled): one answer for all, so it tells nothing about which accounts exist."""

    status = 400
    code = "activation_invalid"
    title = "Invalid activation"
    keep_changes = True  # the throttle's failure count must persist

    def __init__(self) -> None:
        super().__init__("The username and activation code do not match a pending activation.")


class ActivationExpired(DoorstepError):
    """The right code, too late: an admin issues a new one (``POST /api/v1/staff/{username}/reset``)."""

    status = 400
    code = "activation_expired"
    title = "Activation code expired"
    keep_changes = True

    def __init__(self) -> None:
        super().__init__("The activation code has expired; ask an administrator for a new one.")


class MfaRequired(DoorstepError):
    """The password was right; the account has two factors and no ``otp`` came with it."""

    status = 401
    code = "mfa_required"
    title = "Two-factor code required"
    keep_changes = True

    def __init__(self) -> None:
        detail = "This account uses two-factor sign-in: send the authenticator's code (or a recovery code) as otp."
        super().__init__(detail, error="invalid_grant", error_description=detail, headers={"WWW-Authenticate": "otp"})


class MfaInvalid(DoorstepError):
    """A wrong, stale or already used code (counted by the sign-in throttle like a wrong password)."""

    status = 401
    code = "mfa_invalid"
    title = "Invalid two-factor code"
    keep_changes = True

    def __init__(self) -> None:
        detail = "The two-factor code or recovery code is wrong, expired or already used."
        super().__init__(detail, error="invalid_grant", error_description=detail, headers={"WWW-Authenticate": "otp"})


PASSWORD_CHANGE_PATH = "/api/v1/auth/password"  # noqa: S105 (a route, not a secret)


class PasswordExpired(DoorstepError):
    """The password was right but older than the account's roles allow
    (``DOORSTEP_GATEWAY_PASSWORD_MAX_AGE_DAYS``): change it, then sign in."""

    status = 401
    code = "password_expired"
    title = "Password expired"
    keep_changes = True  # the refusal stays in the login history

    def __init__(self) -> None:
        detail = f"The password has expired: change it with POST {PASSWORD_CHANGE_PATH}, then sign in again."
        super().__init__(detail, error="invalid_grant", error_description=detail, password_change=PASSWORD_CHANGE_PATH)
