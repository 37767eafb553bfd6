"""The live feed (#18): the real receiver (Starlette under uvicorn) on loopback, real HTTP requests, each
source's own token, malformed bodies refused, and a PostgreSQL restart in the middle of a feed that loses
and duplicates nothing."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn

from workbench import cluster, connect
from workbench.ingest.feed import build_app
from workbench.policy import load_profile

from .conftest import audit_rows, last_audit_id

BBOX = load_profile("lapd").data["agency"]["jurisdiction_bbox"]
LAT, LON = (BBOX[1] + BBOX[3]) / 2, (BBOX[0] + BBOX[2]) / 2
FEEDER_PASSWORD = "feed-server-password-2026"


class Receiver:
    """uvicorn serving the feed app in a thread, on a free loopback port."""

    def __init__(self, app) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the receiver did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@pytest.fixture(scope="module")
def feed_source(connect_as, settings):
    admin = connect_as("admin_adams")
    name = f"t-feed-{uuid.uuid4().hex[:6]}"
    admin.register_source(name, "fixed", cameras_registered=False)
    token = admin.new_feed_token(name)
    login = f"feeder_{uuid.uuid4().hex[:6]}"
    admin.create_user(login, "Feed server (test)", "feeder", password=FEEDER_PASSWORD)
    return name, token, login


@pytest.fixture()
def receiver(feed_source, settings, tmp_path):
    _, _, login = feed_source
    app = build_app(lambda: connect(user=login, password=FEEDER_PASSWORD, settings=settings), tmp_path / "spool",
                    flush_seconds=0.03)
    with Receiver(app) as base:
        yield base, app


def group(plate: str, site: str, uuid_: str, minutes_ago: float = 10) -> dict:
    epoch = int((datetime.now(UTC) - timedelta(minutes=minutes_ago)).timestamp() * 1000)
    return {"version": 2, "data_type": "alpr_group", "epoch_start": epoch, "epoch_end": epoch + 500, "site_id": site,
            "camera_id": 1, "best_plate_number": plate, "best_confidence": 90.0, "best_uuid": uuid_,
            "gps_latitude": LAT, "gps_longitude": LON}


def test_webhooks_are_committed_before_they_are_answered(receiver, feed_source, superuser):
    base, _ = receiver
    name, token, _ = feed_source
    tag = uuid.uuid4().hex[:5].upper()
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=30) as http:
        answer = http.post("/v1/openalpr", json=group(f"{tag}A", name, f"{tag}-1"), headers=auth)
        assert answer.status_code == 200 and answer.json()["status"] == "committed"
        assert answer.json()["stored"] == 1
        with superuser.cursor() as cursor:  # committed when answered
            cursor.execute("SELECT count(*) FROM alpr.reads WHERE plate = %s", (f"{tag}A",))
            assert cursor.fetchone()[0] == 1
        again = http.post("/v1/openalpr", json=group(f"{tag}A", name, f"{tag}-1"), headers=auth)
        assert (again.json()["stored"], again.json()["duplicates"]) == (0, 1)
        heartbeat = http.post("/v1/openalpr", json={"data_type": "heartbeat", "site_id": name}, headers=auth)
        assert heartbeat.json() == {"status": "no reads", "not_reads": 1}
        start = (datetime.now(UTC) - timedelta(minutes=3)).timestamp()
        frigate = http.post("/v1/frigate", headers=auth, json={"type": "end", "after": {
            "id": f"{tag}-obj", "camera": f"{name}-driveway", "start_time": start, "recognized_license_plate": f"{tag}F",
            "recognized_license_plate_score": 0.91}})
        # Frigate gives no coordinates and this camera is new: refused with the reason, kept.
        assert frigate.status_code == 200 and frigate.json()["rejected"] == 1


def test_bad_tokens_and_bodies_get_specific_errors(receiver, feed_source, superuser):
    base, _ = receiver
    name, token, _ = feed_source
    before = last_audit_id(superuser)
    with httpx.Client(base_url=base, timeout=30) as http:
        missing = http.post("/v1/openalpr", json=group("ABC123", name, "x-1"))
        assert missing.status_code == 401 and "Bearer" in missing.json()["error"]
        wrong = http.post("/v1/openalpr", json=group("ABC123", name, "x-2"), headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "no active source has this feed token" in wrong.json()["error"]
        auth = {"Authorization": f"Bearer {token}"}
        broken = http.post("/v1/openalpr", content=b'{"data_type": "alpr_group", "best_pl', headers=auth)
        assert broken.status_code == 400 and "not JSON" in broken.json()["error"]
        scalar = http.post("/v1/frigate", json=[1, 2], headers=auth)
        assert scalar.status_code == 400 and "not an object" in scalar.json()["error"]
        unknown = http.post("/v1/genetec", json={}, headers=auth)
        assert unknown.status_code == 404
    records = audit_rows(superuser, before)
    # The bad token touched the store (the database judged it): audited; the others never reached it.
    assert [(r["function_name"], r["outcome"], r["reason"]) for r in records] == [
        ("feed_reads", "denied", "no active source has this feed token")]


def test_a_database_restart_mid_feed_loses_and_duplicates_nothing(receiver, feed_source, settings, admin_url):
    base, app = receiver
    name, token, _ = feed_source
    tag = uuid.uuid4().hex[:5].upper()
    auth = {"Authorization": f"Bearer {token}"}
    sent, statuses = [], []

    def send(count: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            for number in range(count):
                read_id = f"{tag}-{number}"
                answer = http.post("/v1/openalpr", json=group(f"{tag}{number:04d}", name, read_id), headers=auth)
                statuses.append(answer.status_code)
                if answer.status_code in (200, 202):
                    sent.append(read_id)
                time.sleep(0.01)

    sender = threading.Thread(target=send, args=(400,))
    sender.start()
    time.sleep(1.0)
    cluster.restart(cluster.read_state(settings))  # fast shutdown: every session of the feed is cut
    sender.join(120)
    assert set(statuses) <= {200, 202} and 202 in statuses, statuses  # some waited on disk while it was down
    deadline = time.monotonic() + 60
    while app.state.writer.spool.pending and time.monotonic() < deadline:
        time.sleep(0.2)
    assert app.state.writer.spool.pending == 0
    from workbench.migrate import connect_raw

    connection = connect_raw(admin_url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT count(*), count(DISTINCT vendor_read_id) FROM alpr.reads r "
                           "JOIN alpr.read_sources s USING (source_id) WHERE s.name = %s AND r.plate LIKE %s",
                           (name, f"{tag}%"))
            stored, distinct = cursor.fetchone()
    finally:
        connection.close()
    assert (stored, distinct) == (len(sent), len(sent)) == (400, 400)
