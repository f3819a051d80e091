"""The subscription routes a service mounts: ``webhooks_router(prefix, hooks=..., get_box=..., get_config=...)``.

Who may call them: county admins (``webhooks:manage``: every subscription) and machine clients
holding any read scope of the service's events (their own subscriptions only). The rules of a
new subscription (events the client may see, communities within its own, a safe URL) are
functions of this module; the handlers in the factory parse, call one of them or the store, and
answer.
"""

# No ``from __future__ import annotations`` here: the routes are built inside a factory and
# FastAPI must see their (local) Annotated dependency types as objects, not as strings.
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy.engine import RowMapping

from ..auth.permissions import Permission
from ..auth.security import CurrentPrincipal, authenticated_router
from ..auth.tokens import Principal
from ..clock import utcnow
from ..db.session import DbSession
from ..http.conditional import IfMatch, check_if_match, etag_of
from ..http.errors import Conflict, Forbidden, Invalid
from ..http.pagination import CursorParam, LimitParam, Page, cursor_int, encode_cursor, read_cursor
from ..http.problems import Responses, problems
from .publisher import Webhooks
from .schemas import (
    WebhookDeliveryRead,
    WebhookEventTypeRead,
    WebhookSecretRotate,
    WebhookSubscriptionCreate,
    WebhookSubscriptionCreated,
    WebhookSubscriptionRead,
    delivery_read,
    subscription_read,
)
from .settings import WebhookConfig
from .signing import SecretBox
from .tables import DeliveryStatus
from .urls import UnsafeUrl, check_url

_PROBLEM_TEXT = {
    401: "Unauthorized",
    403: "Forbidden: not a client with a read scope of these events, nor a webhooks manager",
    404: "No such subscription or delivery (or another client's)",
    409: "Conflict (limit reached, or changed concurrently)",
    412: "Stale If-Match",
    422: "Invalid input (an unsafe URL, an unknown event type …), naming the field",
}


def _problems(*codes: int) -> Responses:
    """401, 403 and 422 (every route), and ``codes``, described as they apply to webhooks."""
    return problems(described={code: _PROBLEM_TEXT[code] for code in {401, 403, 422, *codes}})


def webhook_caller(hooks: Webhooks) -> Callable[..., Awaitable[Principal]]:
    """The dependency that lets in county admins (``webhooks:manage``) and machine clients
    holding any read scope of this service's events."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.has(Permission.WEBHOOKS_MANAGE):
            return principal
        if principal.kind == "client" and principal.scopes & hooks.scopes:
            return principal
        raise Forbidden(
            "Webhooks are for machine clients holding a read scope of these events "
            f"({', '.join(sorted(hooks.scopes))}) and for holders of webhooks:manage.",
            code="missing_permission",
        )

    check.__name__ = "webhook_caller"
    check.__doorstep_permissions__ = (  # type: ignore[attr-defined]
        Permission.WEBHOOKS_MANAGE.value,
        *sorted(hooks.scopes),
    )
    return check


def owner_filter(principal: Principal) -> str | None:
    """Whose subscriptions the caller sees: a client its own, a webhooks manager everyone's."""
    return None if principal.has(Permission.WEBHOOKS_MANAGE) else principal.subject


def subscription_etag(row: RowMapping) -> str:
    return etag_of("webhook_subscription", row["id"], row["version"])


async def request_time() -> dt.datetime:
    return utcnow()


# --- the rules of a new subscription ---------------------------------------------------------


def check_event_types(hooks: Webhooks, principal: Principal, event_types: Sequence[str]) -> None:
    """Every event type is one of the service's, and the client holds a scope that may see it."""
    if principal.kind != "client":
        raise Forbidden("Only machine clients subscribe (with their own credentials).", code="clients_only")
    for i, name in enumerate(event_types):
        event = hooks.events.get(name)
        if event is None:
            raise Invalid.field(f"body.event_types.{i}", f"unknown event type {name!r}", code="unknown_event_type")
        if not principal.scopes & set(event.scopes):
            raise Forbidden(
                f"Subscribing to {name} needs one of the scopes {', '.join(event.scopes)}.",
                code="event_not_permitted",
            )


def subscribed_communities(principal: Principal, requested: Sequence[str] | None) -> list[str] | None:
    """The communities a subscription covers: those asked for (within the client's own), else
    every community the client may see (``None``: all)."""
    visible = principal.visible_communities
    if requested is None:
        return sorted(visible) if visible is not None else None
    outside = sorted(set(requested) - visible) if visible is not None else []
    if outside:
        raise Invalid.field("body.communities", f"not among the client's communities: {', '.join(outside)}")
    return list(requested)


async def check_receiver_url(url: str, config: WebhookConfig) -> None:
    """A 422 naming ``body.url`` for a URL webhooks must not be sent to."""
    try:
        await check_url(
            url,
            allow_private=config.allow_private,
            require_https=config.require_https,
            resolver=config.resolver,
        )
    except UnsafeUrl as exc:
        raise Invalid.field("body.url", str(exc), code=exc.code) from exc


# --- paging ----------------------------------------------------------------------------------


def cursor_id(cursor: str | None) -> int | None:
    """The row id a page cursor carries (both lists page by id)."""
    values = read_cursor(cursor, cursor_int)
    return values[0] if values else None


def page_of(rows: Sequence[RowMapping], limit: int, read: Callable[[RowMapping], Any]) -> Page[Any]:
    """One page from ``limit + 1`` rows at most (the extra one says a next page exists)."""
    shown = rows[:limit]
    more = len(rows) > limit
    return Page(
        items=[read(r) for r in shown],
        next_cursor=encode_cursor([shown[-1]["id"]]) if more and shown else None,
    )


def _secret_response(response: Response, row: RowMapping, secret: str) -> WebhookSubscriptionCreated:
    """The one answer that carries a signing secret: never stored by a cache."""
    response.headers["ETag"] = subscription_etag(row)
    response.headers["Cache-Control"] = "no-store"
    return WebhookSubscriptionCreated(**subscription_read(row).model_dump(), secret=secret)


def subscription_example(hooks: Webhooks) -> dict[str, Any]:
    """The documented body of a subscription, with this service's own event types (the model's
    example cannot know them)."""
    return {
        "url": "https://receiver.example.gov.cn/hooks/doorstep",
        "event_types": list(hooks.events)[:2],
        "description": "12345 热线平台：状态回推",
    }


# --- the routes ------------------------------------------------------------------------------


def webhooks_router(
    prefix: str,
    *,
    hooks: Webhooks,
    get_box: Callable[..., SecretBox | Awaitable[SecretBox]],
    get_config: Callable[..., WebhookConfig | Awaitable[WebhookConfig]],
    get_now: Callable[..., dt.datetime | Awaitable[dt.datetime]] = request_time,
    tags: Sequence[str] = ("webhooks",),
) -> APIRouter:
    """The subscription routes, mounted under ``prefix`` (e.g. ``/api/v1/stations/webhooks``).

    ``get_box``, ``get_config`` and ``get_now`` are FastAPI dependencies (so a service passes
    e.g. ``request.app.state``-readers and its overridable clock)."""
    router = authenticated_router(prefix=prefix, tags=list(tags))
    caller = Annotated[Principal, Depends(webhook_caller(hooks))]
    box_dep = Annotated[SecretBox, Depends(get_box)]
    config_dep = Annotated[WebhookConfig, Depends(get_config)]
    now_dep = Annotated[dt.datetime, Depends(get_now)]
    row_id = Annotated[int, Path(ge=1, le=2**62)]
    op = hooks.service + "_webhooks_"

    async def subscription_of(session: Any, principal: Principal, subscription_id: int) -> RowMapping:
        return await hooks.get_subscription(session, subscription_id, owner_filter(principal))

    async def active_subscription_of(session: Any, principal: Principal, subscription_id: int) -> RowMapping:
        row = await subscription_of(session, principal, subscription_id)
        if not row["active"]:
            raise Conflict("The subscription is deactivated.", code="subscription_inactive")
        return row

    @router.get(
        "/event-types",
        response_model=list[WebhookEventTypeRead],
        summary="The events this service publishes, with example payloads",
        operation_id=op + "event_types",
        responses=_problems(),
    )
    async def event_types(principal: caller) -> list[WebhookEventTypeRead]:
        return [
            WebhookEventTypeRead(type=e.name, description=e.description, scopes=list(e.scopes), example=dict(e.example))
            for e in hooks.events.values()
        ]

    @router.post(
        "/subscriptions",
        response_model=WebhookSubscriptionCreated,
        status_code=201,
        summary="Subscribe a URL to events; the signing secret is returned only here",
        operation_id=op + "create_subscription",
        responses=_problems(409, 422),
        openapi_extra={"requestBody": {"content": {"application/json": {"example": subscription_example(hooks)}}}},
    )
    async def create_subscription(
        session: DbSession,
        principal: caller,
        box: box_dep,
        config: config_dep,
        now: now_dep,
        body: WebhookSubscriptionCreate,
        response: Response,
    ) -> WebhookSubscriptionCreated:
        check_event_types(hooks, principal, body.event_types)
        communities = subscribed_communities(principal, body.communities)
        await check_receiver_url(body.url, config)
        row, secret = await hooks.create_subscription(
            session,
            box,
            owner=principal.subject,
            url=body.url,
            event_types=body.event_types,
            communities=communities,
            description=body.description,
            now=now,
            max_per_owner=config.max_subscriptions_per_owner,
        )
        return _secret_response(response, row, secret)

    @router.get(
        "/subscriptions",
        response_model=Page[WebhookSubscriptionRead],
        summary="Your subscriptions (every one for webhooks:manage), oldest first",
        operation_id=op + "list_subscriptions",
        responses=_problems(422),
    )
    async def list_subscriptions(
        session: DbSession, principal: caller, cursor: CursorParam = None, limit: LimitParam = 50
    ) -> Page[WebhookSubscriptionRead]:
        after = cursor_id(cursor)
        rows = await hooks.list_subscriptions(session, owner_filter(principal), after, limit)
        return page_of(rows, limit, subscription_read)

    @router.get(
        "/subscriptions/{subscription_id}",
        response_model=WebhookSubscriptionRead,
        summary="One subscription (never its secret)",
        operation_id=op + "get_subscription",
        responses=_problems(404),
    )
    async def get_subscription(
        session: DbSession, principal: caller, subscription_id: row_id, response: Response
    ) -> WebhookSubscriptionRead:
        row = await subscription_of(session, principal, subscription_id)
        response.headers["ETag"] = subscription_etag(row)
        return subscription_read(row)

    @router.post(
        "/subscriptions/{subscription_id}/rotate-secret",
        response_model=WebhookSubscriptionCreated,
        summary="New signing secret (returned once); the old one keeps signing for the overlap",
        operation_id=op + "rotate_secret",
        responses=_problems(404, 409, 412, 422),
    )
    async def rotate_secret(
        session: DbSession,
        principal: caller,
        box: box_dep,
        now: now_dep,
        subscription_id: row_id,
        response: Response,
        if_match: IfMatch = None,
        body: WebhookSecretRotate | None = None,
    ) -> WebhookSubscriptionCreated:
        row = await subscription_of(session, principal, subscription_id)
        check_if_match(if_match, subscription_etag(row))
        overlap = dt.timedelta(hours=(body or WebhookSecretRotate()).overlap_hours)
        row, secret = await hooks.rotate_secret(session, box, row, overlap, now)
        return _secret_response(response, row, secret)

    @router.post(
        "/subscriptions/{subscription_id}/deactivate",
        response_model=WebhookSubscriptionRead,
        summary="Stop sending to this subscription; queued deliveries are cancelled",
        operation_id=op + "deactivate_subscription",
        responses=_problems(404, 412),
    )
    async def deactivate(
        session: DbSession,
        principal: caller,
        now: now_dep,
        subscription_id: row_id,
        response: Response,
        if_match: IfMatch = None,
    ) -> WebhookSubscriptionRead:
        row = await subscription_of(session, principal, subscription_id)
        check_if_match(if_match, subscription_etag(row))
        row = await hooks.deactivate(session, row, now)
        response.headers["ETag"] = subscription_etag(row)
        return subscription_read(row)

    @router.post(
        "/subscriptions/{subscription_id}/ping",
        response_model=WebhookDeliveryRead,
        status_code=202,
        summary="Queue a `webhook.ping` test event to this subscription",
        operation_id=op + "ping",
        responses=_problems(404, 409),
    )
    async def ping(session: DbSession, principal: caller, now: now_dep, subscription_id: row_id) -> WebhookDeliveryRead:
        row = await active_subscription_of(session, principal, subscription_id)
        return delivery_read(await hooks.ping(session, row, now))

    @router.get(
        "/subscriptions/{subscription_id}/deliveries",
        response_model=Page[WebhookDeliveryRead],
        summary="The delivery log of a subscription, newest first",
        operation_id=op + "list_deliveries",
        responses=_problems(404, 422),
    )
    async def list_deliveries(
        session: DbSession,
        principal: caller,
        subscription_id: row_id,
        status: Annotated[
            list[str] | None,
            Query(max_length=5, description=" | ".join(DeliveryStatus.ALL)),
        ] = None,
        cursor: CursorParam = None,
        limit: LimitParam = 50,
    ) -> Page[WebhookDeliveryRead]:
        for i, s in enumerate(status or []):
            if s not in DeliveryStatus.ALL:
                raise Invalid.field(f"query.status.{i}", f"one of {', '.join(DeliveryStatus.ALL)}")
        await subscription_of(session, principal, subscription_id)
        before = cursor_id(cursor)
        rows = await hooks.list_deliveries(session, subscription_id, status, before, limit)
        return page_of(rows, limit, delivery_read)

    @router.get(
        "/subscriptions/{subscription_id}/deliveries/{delivery_id}",
        response_model=WebhookDeliveryRead,
        summary="One delivery: attempts, last answer, next attempt, the body sent",
        operation_id=op + "get_delivery",
        responses=_problems(404),
    )
    async def get_delivery(
        session: DbSession, principal: caller, subscription_id: row_id, delivery_id: row_id
    ) -> WebhookDeliveryRead:
        await subscription_of(session, principal, subscription_id)
        return delivery_read(await hooks.get_delivery(session, subscription_id, delivery_id))

    @router.post(
        "/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver",
        response_model=WebhookDeliveryRead,
        status_code=202,
        summary="Send a delivery again (same webhook-id), e.g. a dead-lettered one",
        operation_id=op + "redeliver",
        responses=_problems(404, 409),
    )
    async def redeliver(
        session: DbSession, principal: caller, now: now_dep, subscription_id: row_id, delivery_id: row_id
    ) -> WebhookDeliveryRead:
        await active_subscription_of(session, principal, subscription_id)
        delivery = await hooks.get_delivery(session, subscription_id, delivery_id)
        return delivery_read(await hooks.redeliver(session, delivery, now))

    return router
