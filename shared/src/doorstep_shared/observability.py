"""Moved to doorstep_shared.http.observability; removed once every package imports the new path."""

from doorstep_shared.http.observability import (
    REQUEST_ID_HEADER,
    SECURITY_HEADERS,
    Metrics,
    RedactingJsonFormatter,
    RequestContextMiddleware,
    RequestIdFilter,
    configure_logging,
    new_request_id,
    redact,
    request_id_of,
    request_id_var,
)

__all__ = [
    "REQUEST_ID_HEADER",
    "SECURITY_HEADERS",
    "Metrics",
    "RedactingJsonFormatter",
    "RequestContextMiddleware",
    "RequestIdFilter",
    "configure_logging",
    "new_request_id",
    "redact",
    "request_id_of",
    "request_id_var",
]
