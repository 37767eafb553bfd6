"""The live feed under load, as one JSON line.

Usage: python benchmarks/feed.py [--rate 2000] [--seconds 30] [--senders 2]. On a scratch database: a
source with its feed token and a feeder login, ``workbench feed serve`` started as its own process (the
real receiver, uvicorn), and ``--senders`` load-generating processes posting OpenALPR agent ``alpr_group``
webhooks (one read a request, as the agent sends them) at ``--rate`` reads/s in all, each request timed
from sending to its answer (the receiver answers once the batch holding the read is committed).

- ``sustained``: ``--seconds`` at the rate: reads/s achieved, p50/p99/max from request to committed
  (target: >= 2,000 reads/s with p99 < 200 ms on the 2 cores).
- ``restart``: the same load with PostgreSQL restarted (fast shutdown) a third of the way in; reads
  answered (200 committed or 202 spooled to disk) against the reads stored once the spool drained:
  ``lost`` and ``duplicated`` must both be 0.
- Baseline in the same run: the same reads as the receiver's batches written straight through
  ``api.feed_reads`` from one connection (the database's share of the cost, no HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _scratch import machine, percentile, scratch_database

from workbench import cluster, connect, migrate
from workbench.access.imports import token_sha256
from workbench.ingest.feed import FEED_FORMATS, rows_for_feed
from workbench.policy import load_profile

FEEDER_PASSWORD = "bench-feeder-" + uuid.uuid4().hex[:8]
BBOX = load_profile("lapd").data["agency"]["jurisdiction_bbox"]
CAMERAS = 50


def message(tag: str, number: int) -> dict:
    epoch = int((datetime.now(UTC) - timedelta(seconds=5)).timestamp() * 1000)
    camera = number % CAMERAS
    lat = BBOX[1] + (BBOX[3] - BBOX[1]) * (0.2 + 0.6 * camera / CAMERAS)
    lon = BBOX[0] + (BBOX[2] - BBOX[0]) * (0.3 + 0.4 * ((camera * 7) % CAMERAS) / CAMERAS)
    return {"version": 2, "data_type": "alpr_group", "epoch_start": epoch, "epoch_end": epoch + 600,
            "site_id": "bench-site", "camera_id": camera, "best_plate_number": f"{tag}{number:06d}"[-8:],
            "best_confidence": 91.5, "best_region": "us-ca", "best_uuid": f"{tag}-{number}",
            "gps_latitude": lat, "gps_longitude": lon}


def sender(port: int, token: str, tag: str, first: int, step: int, rate: float, seconds: float, out: str) -> None:
    """One load-generating process: reads first, first+step, ... at ``rate`` a second over keep-alive HTTP/1.1
    connections; timings to ``out``. Plain asyncio streams: an HTTP client library cost more CPU than the
    receiver it measured on these two cores."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    async def run() -> list[tuple[float, int, str]]:
        results: list[tuple[float, int, str]] = []
        idle: asyncio.Queue = asyncio.Queue()
        for _ in range(96):
            idle.put_nowait(None)  # a slot; connections are opened on first use

        async def one(number: int) -> None:
            started = time.perf_counter()  # from when it was due: a wait for a free connection counts
            connection = await idle.get()
            status = 0
            try:
                if connection is None:
                    connection = await asyncio.open_connection("127.0.0.1", port)
                reader, writer = connection
                body = json.dumps(message(tag, number)).encode()
                writer.write(b"POST /v1/openalpr HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token.encode()
                             + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
                             + b"\r\n\r\n" + body)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration):
                connection = None
            results.append((time.perf_counter() - started, status, f"{tag}-{number}"))
            idle.put_nowait(connection)

        tasks, start = [], time.perf_counter()
        for index in range(int(rate * seconds)):
            delay = start + index / rate - time.perf_counter()  # open loop: on schedule, not after answers
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(first + index * step)))
        await asyncio.gather(*tasks)
        return results

    Path(out).write_text(json.dumps(asyncio.run(run())))


def load(port: int, token: str, tag: str, rate: float, seconds: float, senders: int, folder: Path,
         during=None) -> tuple[list, float]:
    outs = [str(folder / f"{tag}-{n}.json") for n in range(senders)]
    processes = [multiprocessing.Process(target=sender, args=(port, token, tag, n, senders, rate / senders, seconds, out))
                 for n, out in enumerate(outs)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    if during is not None:
        during()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    return [row for out in outs for row in json.loads(Path(out).read_text())], elapsed


def step(text: str) -> None:
    print(f"[feed benchmark] {text}", file=sys.stderr, flush=True)


def summary(results: list, elapsed: float) -> dict:
    committed = [seconds * 1000 for seconds, status, _ in results if status == 200]
    return {"requests": len(results), "committed": len(committed),
            "spooled": sum(1 for _, s, _ in results if s == 202), "failed": sum(1 for _, s, _ in results if s not in (200, 202)),
            "reads_per_s": round(len(committed) / elapsed), "p50_ms": round(percentile(committed, 0.5), 1),
            "p99_ms": round(percentile(committed, 0.99), 1), "max_ms": round(max(committed), 1)}


def stored(url, source: str, tag: str) -> tuple[int, int]:
    connection = migrate.connect_raw(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT count(*), count(DISTINCT vendor_read_id) FROM alpr.reads r JOIN alpr.read_sources s "
                           "USING (source_id) WHERE s.name = %s AND r.vendor_read_id LIKE %s", (source, f"{tag}-%"))
            return cursor.fetchone()
    finally:
        connection.close()


def wait_until_drained(base: str, seconds: float = 120) -> int:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"{base}/health", timeout=5).json()
            if health["database"] == "up" and health["spooled_batches"] == 0:
                return 0
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return health.get("spooled_batches", -1)


def direct_baseline(settings, login: str, token: str, reads: int) -> float:
    """reads/s through api.feed_reads from one connection, in batches the size the receiver made."""
    client = connect(user=login, password=FEEDER_PASSWORD, settings=settings)
    tag = "D" + uuid.uuid4().hex[:4].upper()
    shape = FEED_FORMATS["openalpr"]
    batch = 40
    started = time.perf_counter()
    for first in range(0, reads, batch):
        rows = [row for n in range(first, min(reads, first + batch)) for row in shape(message(tag, n), n)]
        client.feed_reads(token_sha256(token), "openalpr", rows_for_feed(rows))
    seconds = time.perf_counter() - started
    client.close()
    return reads / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--senders", type=int, default=2)
    args = parser.parse_args()
    with scratch_database("alpr_workbench_bench_feed", reads=2000, seed=5) as (settings, url, _), \
            tempfile.TemporaryDirectory() as folder:
        admin = connect(user="admin_adams", password="adams-demo-2026", settings=settings)
        source = "bench-feed"
        admin.register_source(source, "fixed", cameras_registered=False)
        token = admin.new_feed_token(source)
        login = "feeder_bench_" + uuid.uuid4().hex[:6]  # logins are the cluster's: one of its own each run
        admin.create_user(login, "Feed server (benchmark)", "feeder", password=FEEDER_PASSWORD)
        admin.close()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "WORKBENCH_PASSWORD": FEEDER_PASSWORD, "WORKBENCH_DATABASE": settings.database}
        server_log = (Path(folder) / "receiver.log").open("w+")
        server = subprocess.Popen([sys.executable, "-m", "workbench", "feed", "serve", "--user", login, "--port", str(port),
                                   "--spool", str(Path(folder) / "spool")], env=env,
                                  stdout=server_log, stderr=subprocess.STDOUT)
        try:
            import httpx

            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/health", timeout=2)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the receiver did not start: "
                                         + Path(server_log.name).read_text()[-2000:]) from None
                    time.sleep(0.3)
            step("receiver up; warming")
            load(port, token, "W" + uuid.uuid4().hex[:3].upper(), args.rate, 3, args.senders, Path(folder))  # warm
            step("sustained load")
            tag = "S" + uuid.uuid4().hex[:4].upper()
            results, elapsed = load(port, token, tag, args.rate, args.seconds, args.senders, Path(folder))
            sustained = summary(results, elapsed)
            in_store, distinct = stored(url, source, tag)
            sustained["stored"] = in_store

            step(f"sustained: {sustained}; restart run")
            tag = "R" + uuid.uuid4().hex[:4].upper()
            restart_seconds = max(10.0, args.seconds / 2)

            def restart_midway() -> None:
                time.sleep(restart_seconds / 3)
                cluster.restart(cluster.read_state(settings))

            results, elapsed = load(port, token, tag, args.rate, restart_seconds, args.senders, Path(folder),
                                    during=restart_midway)
            step("draining the spool")
            left = wait_until_drained(base)
            answered = {read for _, status, read in results if status in (200, 202)}
            in_store, distinct = stored(url, source, tag)
            restart = {"requests": len(results), "answered": len(answered),
                       "spooled": sum(1 for _, s, _ in results if s == 202),
                       "refused": sum(1 for _, s, _ in results if s not in (200, 202)),
                       "stored": in_store, "lost": len(answered) - distinct, "duplicated": in_store - distinct,
                       "spool_left": left}
        finally:
            server.terminate()
            server.wait(30)
            warnings = [line for line in Path(server_log.name).read_text().splitlines() if "WARNING" in line or "ERROR" in line]
            if warnings:
                step(f"receiver: {len(warnings)} warnings, the first: {warnings[:3]}")
        step("direct baseline")
        baseline = direct_baseline(settings, login, token, 20_000)
    server_wide = migrate.connect_raw(url.set(database="postgres"))
    server_wide.autocommit = True
    with server_wide.cursor() as cursor:
        cursor.execute(f'DROP ROLE IF EXISTS "{login}"')
    server_wide.close()
    print(json.dumps({"benchmark": "feed", "rate_asked": args.rate, "senders": args.senders, "sustained": sustained,
                      "restart": restart, "baseline_direct_feed_reads_per_s": round(baseline),
                      "target": {"reads_per_s": 2000, "p99_ms": 200}, "machine": machine()}))


if __name__ == "__main__":
    main()
