"""Outbound URL safety: which receiver URLs webhooks may be sent to.

Only http(s); https in production; no credentials in the URL; and unless private addresses are
allowed, the host must resolve to public addresses only (checked when a subscription is made
and again before every send, since a name may be re-pointed meanwhile).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import httpx

# A test may resolve names itself: (host, port) → addresses.
Resolver = Callable[[str, int], Awaitable[list[str]]]


class UnsafeUrl(ValueError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself); [] if none."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def address_is_public(address: str) -> bool:
    """False for private, loopback, link-local, unspecified, multicast, reserved, CGNAT …"""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_url(url: str, *, allow_private: bool, require_https: bool, resolver: Resolver | None = None) -> None:
    """Refuse a receiver URL we must not call; raises :class:`UnsafeUrl` with a stable code."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeUrl("not a valid URL", "url_invalid") from exc
    if parsed.scheme not in ("http", "https"):
        raise UnsafeUrl("only http and https URLs can receive webhooks", "url_scheme")
    if require_https and parsed.scheme != "https":
        raise UnsafeUrl("an https URL is required", "url_https_required")
    if not parsed.host:
        raise UnsafeUrl("the URL has no host", "url_invalid")
    if parsed.userinfo:
        raise UnsafeUrl("credentials in the URL are not accepted", "url_credentials")
    if allow_private:
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(parsed.host))]
    except ValueError:
        addresses = await (resolver or resolve_host)(parsed.host, port)
    if not addresses:
        raise UnsafeUrl(f"{parsed.host} does not resolve", "url_unresolvable")
    if not all(address_is_public(a) for a in addresses):
        raise UnsafeUrl(
            f"{parsed.host} resolves to a private, loopback, link-local or reserved address",
            "url_not_allowed",
        )
