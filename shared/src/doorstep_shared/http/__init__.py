"""HTTP building blocks every app shares; they know nothing of the database or of tokens.

- ``errors``: the one error hierarchy (``NotFound``, ``Forbidden``, ``Conflict``, ``Invalid`` …)
  and the handlers that render every error as RFC 9457 ``application/problem+json``
- ``messages``: what problems say, in Chinese (default) or English (``Accept-Language``)
- ``query``: a query parameter no route reads is a 422, not silently ignored
- ``problems``: one way to document a route's problem responses in OpenAPI
- ``conditional``: ETags, ``If-None-Match`` → 304, one ``check_if_match``; as a client, a
  document kept with its ETag (``Copy``, ``if_none_match``, ``revalidated``)
- ``pagination``: opaque cursors and the capped ``limit``
- ``sparse``: ``?fields=a,b`` on the lists a phone scrolls (items trimmed to those fields and ``id``)
- ``observability``: request ids, JSON logs without personal data, Prometheus metrics
- ``loop_lag``: how late the event loop wakes (a blocking call shows), in the metrics
- ``docs_pages``: Swagger UI and ReDoc on files the app serves itself (no CDN, no web fonts)

``auth/`` and ``db/`` build on this package; ``doorstep_shared.app`` puts them together.
"""

from .conditional import (
    Copy,
    IfMatch,
    check_if_match,
    etag_list,
    etag_of,
    if_none_match,
    not_modified,
    not_modified_response,
    revalidated,
)
from .errors import (
    PROBLEM_JSON,
    BadRequest,
    Conflict,
    DoorstepError,
    Forbidden,
    GatewayTimeout,
    Gone,
    Invalid,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    install_error_handlers,
    problem_response,
    validation_errors,
)
from .messages import MESSAGES, Language, language_var, localize, negotiate
from .observability import (
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
from .pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CursorParam,
    LimitParam,
    Page,
    cursor_instant,
    cursor_int,
    cursor_optional_text,
    cursor_text,
    cursor_timestamp,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
    read_cursor,
)
from .problems import (
    COMMON_PROBLEMS,
    DESCRIPTIONS,
    NOT_MODIFIED,
    PROBLEM_SCHEMA,
    PROBLEM_SCHEMA_REF,
    Responses,
    document_problems,
    problem_content,
    problems,
)
from .query import reject_unknown_query

__all__ = [
    "COMMON_PROBLEMS",
    "DEFAULT_LIMIT",
    "DESCRIPTIONS",
    "MAX_LIMIT",
    "MESSAGES",
    "NOT_MODIFIED",
    "PROBLEM_JSON",
    "PROBLEM_SCHEMA",
    "PROBLEM_SCHEMA_REF",
    "REQUEST_ID_HEADER",
    "SECURITY_HEADERS",
    "BadRequest",
    "Conflict",
    "Copy",
    "CursorParam",
    "DoorstepError",
    "Forbidden",
    "GatewayTimeout",
    "Gone",
    "IfMatch",
    "Invalid",
    "Language",
    "LimitParam",
    "Metrics",
    "NotFound",
    "Page",
    "PayloadTooLarge",
    "PreconditionFailed",
    "PreconditionRequired",
    "RedactingJsonFormatter",
    "RequestContextMiddleware",
    "RequestIdFilter",
    "Responses",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "check_if_match",
    "configure_logging",
    "cursor_instant",
    "cursor_int",
    "cursor_optional_text",
    "cursor_text",
    "cursor_timestamp",
    "cursor_uuid",
    "decode_cursor",
    "document_problems",
    "encode_cursor",
    "etag_list",
    "etag_of",
    "if_none_match",
    "install_error_handlers",
    "language_var",
    "localize",
    "negotiate",
    "new_request_id",
    "not_modified",
    "not_modified_response",
    "problem_content",
    "problem_response",
    "problems",
    "read_cursor",
    "redact",
    "reject_unknown_query",
    "request_id_of",
    "request_id_var",
    "revalidated",
    "validation_errors",
]
