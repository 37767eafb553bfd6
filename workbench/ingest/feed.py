"""The live feed: an HTTP receiver (Starlette under uvicorn) for OpenALPR / Rekor agent webhooks and Frigate
events, each source authenticated by its own bearer token (the database keeps only its sha256).

Requests are gathered while a writer is busy (and a few milliseconds more) and written as one batch per source through the audited
``api.feed_reads``; a sender is answered once its batch is committed (200), or, when the database is away,
once the batch is on the disk spool (202), which is replayed in arrival order when the database is back.
Every read carries a key in the store (the vendor's id, or a content key), so a batch committed just before
the database went away and replayed after adds nothing twice.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..errors import DatabaseUnavailable, InvalidQuery, NotAuthorized, WorkbenchError
from .formats import FileFormatError, frigate_rows, openalpr_rows
from .spool import Spool

log = logging.getLogger("workbench.feed")
MAX_BODY_BYTES = 10 * 1024 * 1024
FEED_FORMATS = {"openalpr": openalpr_rows, "frigate": frigate_rows}


@dataclass
class _Pending:
    token_hash: str
    fmt: str
    rows: list[dict[str, Any]]
    received: float
    answer: asyncio.Future = field(default=None)  # type: ignore[assignment]


def rows_for_feed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Staging rows as api.feed_reads takes them (times ISO 8601, images base64)."""
    shaped = []
    for row in rows:
        item = {k: v for k, v in row.items() if v is not None and k not in ("image", "line_no")
                and not (isinstance(v, float) and v != v)}
        when = row.get("read_at")
        item.pop("read_at", None)
        if when is not None and not pd.isna(when):
            item["read_at"] = pd.Timestamp(when).isoformat()
        if row.get("image") is not None:
            item["image_base64"] = base64.b64encode(row["image"]).decode()
        shaped.append(item)
    return shaped


class _Connection:
    """A writer's own database connection, opened on first use and again after the database went away."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._client = None

    def feed_reads(self, token_hash: str, fmt: str, rows: list[dict[str, Any]]):
        if self._client is None:
            self._client = self._factory()
        return self._client.feed_reads(token_hash, fmt, rows)

    def reset(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
        self._client = None


class FeedWriter:
    """Writers (each with its own connection) taking what has arrived as one batch: whatever is queued when a
    writer is free, after at most ``flush_seconds`` of waiting for more (group commit: under load the batches
    grow, idle the wait stays short). To the spool while the database is away or earlier batches wait there."""

    def __init__(self, client_factory: Callable[[], Any], spool: Spool, flush_seconds: float = 0.01,
                 max_rows: int = 5000, writers: int = 2) -> None:
        self._connections = [_Connection(client_factory) for _ in range(writers)]
        self._replay_connection = _Connection(client_factory)
        self.spool = spool
        self.flush_seconds = flush_seconds
        self.max_rows = max_rows
        self.queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self.database_up = True
        self.committed_batches = 0
        self._failures = 0
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._write_loop(c)) for c in self._connections]
        self._tasks.append(asyncio.create_task(self._replay_loop()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for connection in [*self._connections, self._replay_connection]:
            connection.reset()

    async def submit(self, token_hash: str, fmt: str, rows: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        pending = _Pending(token_hash, fmt, rows, time.monotonic(), asyncio.get_running_loop().create_future())
        await self.queue.put(pending)
        return await pending.answer

    async def _write_loop(self, connection: _Connection) -> None:
        while True:
            batch = [await self.queue.get()]
            rows = len(batch[0].rows)
            deadline = time.monotonic() + self.flush_seconds
            while rows < self.max_rows:
                if self.queue.empty():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        item = await asyncio.wait_for(self.queue.get(), remaining)
                    except TimeoutError:
                        break
                else:
                    item = self.queue.get_nowait()
                batch.append(item)
                rows += len(item.rows)
            groups: dict[tuple[str, str], list[_Pending]] = {}
            for item in batch:
                groups.setdefault((item.token_hash, item.fmt), []).append(item)
            for (token_hash, fmt), items in groups.items():
                await self._write_group(connection, token_hash, fmt, items)

    async def _write_group(self, connection: _Connection, token_hash: str, fmt: str, items: list[_Pending]) -> None:
        rows = [row for item in items for row in item.rows]
        for number, row in enumerate(rows, start=1):
            row["line_no"] = number
        if self.spool.pending:  # earlier batches first: these wait behind them
            self._spool(token_hash, fmt, rows, items)
            return
        try:
            report = await asyncio.to_thread(connection.feed_reads, token_hash, fmt, rows)
        except NotAuthorized as refused:
            self._answer(items, 401, {"error": str(refused)})
            return
        except InvalidQuery as refused:
            self._answer(items, 400, {"error": str(refused)})
            return
        except (DatabaseUnavailable, WorkbenchError) as lost:
            # Away (or the outcome unknown): on disk now, replayed in order; keys keep a replay from doubling.
            log.warning("database unavailable, spooling %s reads: %s", len(rows), str(lost).splitlines()[0])
            self.database_up = False
            connection.reset()
            self._spool(token_hash, fmt, rows, items)
            return
        self.database_up = True
        self.committed_batches += 1
        self._answer(items, 200, {"status": "committed", "import_id": report.import_id, "batch_rows": report.rows,
                                  "stored": report.accepted, "rejected": report.rejected,
                                  "duplicates": report.duplicates, "hits": report.hits, "audit_id": report.audit_id})

    def _spool(self, token_hash: str, fmt: str, rows: list[dict[str, Any]], items: list[_Pending]) -> None:
        self.spool.append([{"token_sha256": token_hash, "format": fmt, "rows": rows, "spooled_at": time.time()}])
        self._answer(items, 202, {"status": "spooled", "rows": len(rows), "waiting": self.spool.pending})

    @staticmethod
    def _answer(items: list[_Pending], status: int, body: dict[str, Any]) -> None:
        for item in items:
            if not item.answer.done():
                item.answer.set_result((status, body))

    async def _replay_loop(self) -> None:
        while True:
            entry = self.spool.next_entry()
            if entry is None:
                await asyncio.sleep(0.2)
                continue
            try:
                await asyncio.to_thread(self._replay_connection.feed_reads, entry["token_sha256"], entry["format"],
                                        entry["rows"])
            except (NotAuthorized, InvalidQuery) as refused:
                log.error("spooled batch refused by the database, kept in refused.jsonl: %s", refused)
                self.spool.refuse(entry, str(refused))
                continue
            except DatabaseUnavailable:
                self.database_up = False
                self._replay_connection.reset()
                await asyncio.sleep(1.0)
                continue
            except WorkbenchError as failed:
                # Reachable but the batch failed (a lock wait, say): a few tries, then kept aside, not lost.
                self._failures += 1
                if self._failures >= 5:
                    log.error("spooled batch failed 5 times, kept in refused.jsonl: %s", failed)
                    self.spool.refuse(entry, str(failed))
                    self._failures = 0
                await asyncio.sleep(0.5 * self._failures)
                continue
            self._failures = 0
            self.database_up = True
            self.spool.mark_replayed()


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def build_app(client_factory: Callable[[], Any], spool_dir: Path, flush_seconds: float = 0.01) -> Starlette:
    """The receiver. ``client_factory`` opens the feeder login's connection (workbench.connect)."""
    writer = FeedWriter(client_factory, Spool(spool_dir), flush_seconds)

    async def receive(request: Request) -> JSONResponse:
        fmt = request.path_params["fmt"]
        if fmt not in FEED_FORMATS:
            return JSONResponse({"error": f"unknown feed {fmt!r}; POST to /v1/openalpr or /v1/frigate"}, 404)
        token = _bearer(request)
        if token is None:
            return JSONResponse({"error": "send the source's feed token as 'Authorization: Bearer <token>'"}, 401)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": f"a request is at most {MAX_BODY_BYTES // 1024 // 1024} MB"}, 413)
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return JSONResponse({"error": f"the body is not JSON: {getattr(exc, 'msg', exc)} at position "
                                          f"{getattr(exc, 'pos', '?')} (truncated?)"}, 400)
        messages = payload if isinstance(payload, list) else [payload]
        shape = FEED_FORMATS[fmt]
        rows: list[dict[str, Any]] = []
        not_reads = 0
        for number, message in enumerate(messages, start=1):
            if not isinstance(message, dict):
                return JSONResponse({"error": f"message {number} is a JSON {type(message).__name__}, not an object"},
                                    400)
            try:
                made = shape(message, number)
            except FileFormatError as exc:
                return JSONResponse({"error": str(exc)}, 400)
            if made is None:
                not_reads += 1
            else:
                rows.extend(made)
        if not rows:
            return JSONResponse({"status": "no reads", "not_reads": not_reads}, 200)
        status, answer = await writer.submit(hashlib.sha256(token.encode()).hexdigest(), fmt, rows_for_feed(rows))
        return JSONResponse({**answer, "not_reads": not_reads}, status)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"database": "up" if writer.database_up else "away", "spooled_batches": writer.spool.pending,
                             "committed_batches": writer.committed_batches})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        writer.start()
        try:
            yield
        finally:
            await writer.stop()

    app = Starlette(routes=[Route("/v1/{fmt}", receive, methods=["POST"]), Route("/health", health, methods=["GET"])],
                    lifespan=lifespan)
    app.state.writer = writer
    return app


def serve(client_factory: Callable[[], Any], spool_dir: Path, host: str = "127.0.0.1", port: int = 8700) -> None:
    import uvicorn

    uvicorn.run(build_app(client_factory, spool_dir), host=host, port=port, log_level="info", access_log=False)
