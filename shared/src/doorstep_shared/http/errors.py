"""One error hierarchy for every Doorstep app, rendered as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from .messages import (
    CONTENT_LANGUAGE,
    Language,
    field_message_zh,
    language_var,
    localize,
    message_of,
    own_field_message_zh,
)

PROBLEM_JSON = "application/problem+json"

logger = logging.getLogger("doorstep.errors")

# FastAPI's detail when it cannot decode a request body at all (fastapi/routing.py).
_FASTAPI_BODY_PARSE_ERROR = "There was an error parsing the body"


class DoorstepError(Exception):
    """Base of every expected error: carries an HTTP status and a stable machine code."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"
    keep_changes: bool = False  # commit the request's session even though the request fails

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        detail_zh: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        # The Chinese detail when the code's sentence (doorstep_shared.http.messages) is too vague.
        self.detail_zh = detail_zh
        self.detail = detail or self.title
        if code is not None:
            self.code = code
        self.errors = list(errors) if errors else None
        self.headers = headers
        self.extra = extra

    def to_problem(self, instance: str | None = None, language: Language | None = None) -> dict[str, Any]:
        """The problem body, its texts in ``language`` (default: the request's)."""
        body: dict[str, Any] = {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return localize(body, language or language_var.get(), self.detail_zh)


class Invalid(DoorstepError):
    status = 422
    code = "invalid"
    title = "Unprocessable content"

    @classmethod
    def field(cls, field: str, message: str, *, code: str = "invalid", **extra: Any) -> Invalid:
        """A 422 naming one offending field (``field`` is a dotted location like ``body.phone``)."""
        zh = f"{field}：{own_field_message_zh({'message': message}, message_of(code, cls.status))}"
        return cls(
            f"{field}: {message}", code=code, errors=[{"field": field, "message": message}], detail_zh=zh, **extra
        )


class BadRequest(DoorstepError):
    status = 400
    code = "bad_request"
    title = "Bad request"


class Unauthorized(DoorstepError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        super().__init__(detail, **kwargs)


class Forbidden(DoorstepError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(DoorstepError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(DoorstepError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Gone(DoorstepError):
    status = 410
    code = "gone"
    title = "Gone"


class PreconditionFailed(DoorstepError):
    status = 412
    code = "precondition_failed"
    title = "Precondition failed"


class PreconditionRequired(DoorstepError):
    status = 428
    code = "precondition_required"
    title = "Precondition required"


class PayloadTooLarge(DoorstepError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class TooManyRequests(DoorstepError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"


class ServiceUnavailable(DoorstepError):
    status = 503
    code = "unavailable"
    title = "Service unavailable"


class GatewayTimeout(DoorstepError):
    status = 504
    code = "upstream_timeout"
    title = "Gateway timeout"


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    detail_zh: str | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response built without raising (for middleware and the gateway); its
    texts in the request's language (``title`` is kept for API compatibility: the catalogue's
    title for ``code`` is what is sent)."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
    }
    body.update(extra)
    language = language_var.get()
    localize(body, language, detail_zh)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=language_headers(headers, language))


def language_headers(headers: dict[str, str] | None, language: Language) -> dict[str, str]:
    """``headers`` plus the answer's Content-Language and ``Vary: Accept-Language``."""
    out = dict(headers or {})
    out["Content-Language"] = CONTENT_LANGUAGE[language]
    vary = out.get("Vary")
    out["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"
    return out


_UNDECODABLE = {"en": "the body could not be decoded", "zh": field_message_zh("body_decode", {})}


def _field_path(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_errors(exc: RequestValidationError, language: Language = "en") -> list[dict[str, Any]]:
    """Pydantic errors as ``{field, message, type}``; input values are never echoed (they may be
    PII). The message is pydantic's in English, the table's (with the ``ctx`` values) in Chinese."""
    out = []
    for err in exc.errors():
        kind = err.get("type", "")
        message = err.get("msg", "") if language == "en" else field_message_zh(kind, err.get("ctx") or {})
        out.append({"field": _field_path(err.get("loc", ())), "message": message, "type": kind})
    return out


def _sqlstate(exc: Exception) -> str:
    """The SQLSTATE of a driver error (asyncpg: ``sqlstate``; others: ``pgcode``), or ''."""
    orig = getattr(exc, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str):
            return state
    return ""


def _is_undecodable_body(exc: StarletteHTTPException) -> bool:
    """Whether a 400 means "the body could not be decoded at all".

    Two ways: FastAPI's own 400 for a body it cannot read (e.g. JSON that is not UTF-8), and
    Starlette's 400 for broken multipart or form data, raised by ``Request.form()`` while it
    handles the parser's ``MultiPartException`` (so that exception is the 400's ``__context__``).
    """
    if exc.status_code != 400:
        return False
    return exc.detail == _FASTAPI_BODY_PARSE_ERROR or isinstance(exc.__context__, MultiPartException)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of the app as problem+json; a bug is a bare 500 without a trace."""

    async def on_doorstep_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DoorstepError)
        language = language_var.get()
        return JSONResponse(
            exc.to_problem(request.url.path, language),
            status_code=exc.status,
            media_type=PROBLEM_JSON,
            headers=language_headers(exc.headers, language),
        )

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc, language_var.get())
        fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
        return problem_response(
            422,
            "validation_failed",
            f"Invalid input: {fields}",
            title="Validation failed",
            detail_zh=f"输入有误：{fields}",
            errors=errors,
        )

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if _is_undecodable_body(exc):
            # Invalid input like malformed JSON: the same documented 422 naming the body, not an
            # undocumented 400 (see _is_undecodable_body for the two ways it arrives here).
            return problem_response(
                422,
                "validation_failed",
                "Invalid input: body",
                title="Validation failed",
                detail_zh="输入有误：body",
                errors=[{"field": "body", "message": _UNDECODABLE[language_var.get()], "type": "body_decode"}],
            )
        code = {
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthorized",
            403: "forbidden",
        }.get(exc.status_code, f"http_{exc.status_code}")
        return problem_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    async def on_integrity_error(request: Request, exc: Exception) -> JSONResponse:
        logger.warning("integrity error on %s %s", request.method, request.url.path)
        return problem_response(409, "conflict", "The change conflicts with existing data.")

    async def on_data_error(request: Request, exc: Exception) -> JSONResponse:
        logger.warning("data error on %s %s", request.method, request.url.path)
        return problem_response(422, "invalid_data", "A value does not fit its field (too long or out of range).")

    async def on_dbapi_error(request: Request, exc: Exception) -> JSONResponse:
        # Classify by SQLSTATE where the driver gives one: a value the database cannot store
        # (class 22, e.g. a NUL character on PostgreSQL) is bad input, not an outage.
        state = _sqlstate(exc)
        if state.startswith("22"):
            return await on_data_error(request, exc)
        if state.startswith("23"):
            return await on_integrity_error(request, exc)
        return await on_database_unavailable(request, exc)

    async def on_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The SQLSTATE says which (53300 too many connections, 40P01 deadlock…); never the message,
        # which may quote the row.
        logger.error("database unavailable: %s (SQLSTATE %s)", type(exc).__name__, _sqlstate(exc) or "-")
        return problem_response(
            503,
            "database_unavailable",
            "The database is not reachable; retry shortly.",
            headers={"Retry-After": "2"},
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal_error", "An unexpected error occurred; it has been logged.")

    app.add_exception_handler(DoorstepError, on_doorstep_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(IntegrityError, on_integrity_error)
    app.add_exception_handler(DataError, on_data_error)
    app.add_exception_handler(OperationalError, on_database_unavailable)
    app.add_exception_handler(PoolTimeoutError, on_database_unavailable)
    app.add_exception_handler(ConnectionError, on_database_unavailable)
    app.add_exception_handler(DBAPIError, on_dbapi_error)
    app.add_exception_handler(Exception, on_unexpected)
