"""A service's copy of the org directory: filled from the gateway's export, or from a file.

The gateway publishes the directory at ``GET {gateway}/api/v1/directory/export`` (the document
of :meth:`Directory.to_export`, ETag = the quoted revision, 304 on ``If-None-Match``). Each
service keeps the last good copy in memory and asks again every ``poll_seconds`` (a background
task of its lifespan), so a compound created or redrawn at the gateway is seen within seconds,
without a restart. A file (the import CSV format, or an export JSON) serves standalone runs and
tests, and stands in while the URL has never answered with an export (404 or refused: a
gateway without the export yet, or not started).

Degrade, don't fail: once a copy came from the URL, a failed poll keeps it (with a ``store``,
across restarts too: it is kept in the service's database), and the dependency
``directory`` is ``degraded`` on /readyz (stale since the gateway last confirmed it) until the
next good answer. With no copy at all, what needs the directory answers 503
``directory_unavailable``.

Listeners (``on_change``) apply a new revision to the service's own tables (new compounds, a
redrawn grid): called once per revision, with the revision they saw last; one that fails is
called again at the next poll, so a revision is applied even if the database was down.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from .background import BackgroundWork
from .clock import utcnow
from .config import DirectorySettings
from .db.directory_store import DirectoryStore
from .directory.model import Directory
from .directory.rows import decode, directory_of, parse_rows, read_csv
from .http.conditional import Copy, if_none_match, revalidated
from .http.errors import ServiceUnavailable
from .http.health import Dependencies, DependencyState

logger = logging.getLogger("doorstep.directory")

DEPENDENCY = "directory"
EXPORT_PATH = "/api/v1/directory/export"

Listener = Callable[[Directory | None, Directory], Awaitable[None]]


class DirectoryFileError(ValueError):
    """A directory file that cannot be read as a directory (the first bad line and field)."""


def read_directory_file(path: Path) -> Directory:
    """A directory from a file: an export document (``.json``) or the import CSV format."""
    data = path.read_bytes()
    if path.suffix.lower() == ".json":
        return Directory.from_export(json.loads(data))
    rows, errors = parse_rows(read_csv(decode(data)))
    if errors:
        first = errors[0]
        raise DirectoryFileError(f"{path.name} line {first.line}, {first.field}: {first.detail}")
    return directory_of(rows)


class DirectoryCopy:
    """The app's directory (``state.directory``): see the module's documentation."""

    def __init__(
        self,
        *,
        url: str | None = None,
        file: Path | None = None,
        http: httpx.AsyncClient | None = None,
        dependencies: Dependencies | None = None,
        store: DirectoryStore | None = None,
    ) -> None:
        self.store = store  # where the URL's last copy is kept across restarts
        self._stored_read = False
        self.url = url.rstrip("/") + EXPORT_PATH if url and not url.endswith(EXPORT_PATH) else url
        self.file = file
        self.http = http
        self.dependencies = dependencies
        self.source: str | None = None  # "url" or "file": where the current copy came from
        self.confirmed_at: dt.datetime | None = None  # when the URL last confirmed the copy
        self._held: Copy[Directory] | None = None
        self._file_stamp: tuple[float, int] | None = None
        self._listeners: list[Listener] = []
        self._applied: Directory | None = None  # the revision every listener has applied
        if dependencies is not None:
            dependencies.register(DEPENDENCY)

    @property
    def current(self) -> Directory | None:
        return self._held.value if self._held is not None else None

    def directory(self) -> Directory:
        """The directory to validate against; 503 while there is none."""
        if self._held is None:
            raise ServiceUnavailable(
                "The org directory has not been received yet; retry shortly.", code="directory_unavailable"
            )
        return self._held.value

    def prime(self, directory: Directory, source: str = "file") -> None:
        """Install a known directory (tests, or a warm start); listeners apply it at the next refresh."""
        self._held = Copy(directory, f'"{directory.revision}"')
        self.source = source

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    @property
    def applied(self) -> Directory | None:
        return self._applied

    async def refresh(self) -> bool:
        """One poll: the URL (with If-None-Match), else the file; then the listeners, if the
        revision is new to them. True when the copy changed. Never raises for a bad source."""
        if self.store is not None and not self._stored_read and self._held is None:
            await self._load_stored()
        before = self.current
        if self.url and self.http is not None:
            await self._from_url()
        elif self.file is not None:
            self._from_file("")
        else:
            self._mark(DependencyState.UNAVAILABLE, "no directory URL or file configured")
        await self._apply()
        return self.current is not None and (before is None or before.revision != self.current.revision)

    async def _from_url(self) -> None:
        assert self.url is not None and self.http is not None
        held = self._held if self.source == "url" else None
        try:
            resp = await self.http.get(self.url, headers=if_none_match(held))
            fresh = revalidated(resp, held, Directory.from_export)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self._failed(type(exc).__name__, absent=isinstance(exc, httpx.ConnectError))
            return
        if fresh is None:
            self._failed(f"the export answered {resp.status_code}", absent=resp.status_code == 404)
            return
        self.confirmed_at = utcnow()
        if fresh is not held:
            self._swap(fresh, "url")
            if self.store is not None:
                await self.store.save(fresh.value.to_export(), fresh.etag, self.confirmed_at)
        self._mark(DependencyState.OK)

    async def _load_stored(self) -> None:
        """A start-up: the copy the URL last gave any replica (revalidated at once)."""
        assert self.store is not None
        self._stored_read = True
        stored = await self.store.load()
        if stored is None:
            return
        try:
            directory = Directory.from_export(stored.document)
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("the stored directory is unreadable: %s", type(exc).__name__)
            return
        self._swap(Copy(directory, stored.etag), "url")
        self.confirmed_at = stored.confirmed_at

    def _failed(self, detail: str, *, absent: bool) -> None:
        """Keep the URL's last copy (degraded); never had one: the file stands in."""
        logger.debug("directory refresh failed: %s", detail)
        if self.source == "url":
            self._mark(DependencyState.DEGRADED, f"refresh failed: {detail}")
        elif self.file is not None and self._from_file(detail):
            # Not there yet (404, refused): the file is the directory, as configured.
            self._mark(DependencyState.OK if absent else DependencyState.DEGRADED, f"following the file ({detail})")
        else:
            self._mark(DependencyState.UNAVAILABLE, f"no copy; {detail}")

    def _from_file(self, why: str) -> bool:
        """Read the file when it changed (size and mtime); False when it cannot be read."""
        assert self.file is not None
        try:
            stat = self.file.stat()
            stamp = (stat.st_mtime, stat.st_size)
            if stamp != self._file_stamp or self.source != "file":
                directory = read_directory_file(self.file)
                self._file_stamp = stamp
                self._swap(Copy(directory, f'"{directory.revision}"'), "file")
        except (OSError, ValueError, TypeError) as exc:
            logger.warning("directory file %s unreadable: %s", self.file, exc)
            if self._held is None:
                self._mark(DependencyState.UNAVAILABLE, f"no copy; file unreadable: {type(exc).__name__}")
            return False
        if not why:
            self._mark(DependencyState.OK)
        return True

    def _swap(self, fresh: Copy[Directory], source: str) -> None:
        previous = self.current
        self._held, self.source = fresh, source
        if previous is None or previous.revision != fresh.value.revision:
            logger.info("directory revision %s (from the %s)", fresh.value.revision, source)

    def _mark(self, state: DependencyState, detail: str = "") -> None:
        if self.dependencies is None:
            return
        stale = self.confirmed_at or utcnow() if state is DependencyState.DEGRADED else None
        self.dependencies.mark(DEPENDENCY, state, stale_since=stale, detail=detail)

    async def _apply(self) -> None:
        current = self.current
        if current is None or (self._applied is not None and self._applied.revision == current.revision):
            return
        try:
            for listener in self._listeners:
                await listener(self._applied, current)
        except Exception:  # the next poll applies it again (listeners are idempotent)
            logger.exception("applying directory revision %s failed; retrying at the next poll", current.revision)
            return
        self._applied = current


def directory_copy(
    settings: DirectorySettings,
    http: httpx.AsyncClient | None,
    dependencies: Dependencies | None,
    store: DirectoryStore | None = None,
) -> DirectoryCopy:
    """The copy an app's settings describe (``DOORSTEP_<APP>_DIRECTORY_URL`` / ``_FILE``)."""
    url, file = settings.directory_source()
    return DirectoryCopy(url=url, file=file, http=http, dependencies=dependencies, store=store)


def following(copy: DirectoryCopy, settings: DirectorySettings) -> BackgroundWork:
    """The background task that polls the copy every ``directory_poll_seconds`` (0: never);
    the lifespan calls ``await copy.refresh()`` once before, so the app starts with a copy."""
    poll = settings.directory_poll_seconds
    work = BackgroundWork(settings.service_name, enabled=poll > 0, logger=logger)
    work.every("directory", copy.refresh, interval=poll or 1.0, delay=poll, quiet=True)
    return work
