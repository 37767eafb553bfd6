"""What a newcomer trips over (issue #17), each tried as a new user would: local times, exact circles, codes
in lower case, numbers that are not numbers, a whole plate that matches nothing, an outage in the middle of a
call, footage files that are not what they say, a hot list with a NUL in it."""

from __future__ import annotations

import math
from datetime import timedelta
from zoneinfo import ZoneInfo

import numpy as np
import psycopg2
import pytest
from pyproj import Geod

import workbench
from workbench.access import Scene
from workbench.errors import FootageError, InvalidQuery, OutcomeUnknown
from workbench.recognition.sources import probe
from workbench.sample.generator import scenarios

from .conftest import END, PASSWORDS, audit_rows, last_audit_id

PLAN = scenarios(END)
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
GEOD = Geod(ellps="WGS84")


def test_times_without_a_zone_are_agency_time_and_said_so(analyst_case):
    """The analyst types scene 3's local times, as the witness gave them: the reads are those of the true window."""
    scene = PLAN.scenes[2]
    aware = Scene("scene 3", scene.at - timedelta(hours=2), scene.at + timedelta(hours=2), lat=scene.lat,
                  lon=scene.lon, radius_m=300)
    local = scene.at.astimezone(LOS_ANGELES).replace(tzinfo=None)
    typed = Scene("scene 3", local - timedelta(hours=2), local + timedelta(hours=2), lat=scene.lat, lon=scene.lon,
                  radius_m=300)
    expected = analyst_case.canvass([aware])
    got = analyst_case.canvass([typed])
    assert len(got) == len(expected) > 2 and set(got.reads["read_id"]) == set(expected.reads["read_id"])
    assert any("America/Los_Angeles" in warning for warning in got.warnings)
    assert str(got.reads["read_at"].dt.tz) == "America/Los_Angeles"  # and shown in agency time


def test_a_circle_finds_every_read_inside_its_radius(analyst_case, superuser):
    """A camera 99.7% of the radius from the centre, on bearings all round: found every time (the search used a
    polygon approximation of the circle, whose edges cut such reads between its corners)."""
    with superuser.cursor() as cursor:
        cursor.execute("SELECT plate, read_at, ST_Y(location::geometry), ST_X(location::geometry) FROM alpr.reads "
                       "WHERE read_at < %s AND source = 'fixed' AND logically_deleted_at IS NULL "
                       "ORDER BY read_at DESC LIMIT 1", (END,))
        plate, at, lat, lon = cursor.fetchone()
    radius = 300.0
    for bearing in range(0, 360, 7):
        center_lon, center_lat, _ = GEOD.fwd(lon, lat, bearing, 0.997 * radius)
        area = {"type": "circle", "lat": center_lat, "lon": center_lon, "radius_m": radius}
        # a month's window, like real searches (the agency's usual scope is measured from them)
        found = analyst_case.search_plates(plate, at - timedelta(days=15), at + timedelta(days=15), area=area)
        assert len(found) >= 1, f"missed a read 0.3% inside the circle on bearing {bearing}"
        outside = dict(area, radius_m=0.99 * radius)
        near = analyst_case.search_plates(plate, at - timedelta(days=15), at + timedelta(days=15), area=outside)
        assert not (near.reads["read_at"] == at).any()  # and not found once the circle no longer holds it


def test_codes_in_any_case_and_values_of_the_wrong_kind(analyst_case):
    start, end = END - timedelta(days=60), END
    upper = analyst_case.search_plates(PLAN.witness_pattern, start, end, states=["CA"])
    assert len(upper) > 0
    assert set(analyst_case.search_plates(PLAN.witness_pattern, start, end, states=["ca"]).reads["read_id"]) == \
        set(upper.reads["read_id"])
    with pytest.raises(InvalidQuery, match="mistakes must be a whole number"):
        analyst_case.search_plates(PLAN.witness_pattern, start, end, max_mistakes=1.5)
    with pytest.raises(InvalidQuery, match="lookalike must be True or False"):
        analyst_case.search_plates(PLAN.witness_pattern, start, end, lookalike="yes")
    for bad in (math.nan, math.inf):
        with pytest.raises(workbench.InvalidArea, match="latitude"):
            analyst_case.search_plates("7*", start, end, area={"type": "circle", "lat": bad, "lon": -118.19,
                                                               "radius_m": 300})
        with pytest.raises(workbench.InvalidArea):
            analyst_case.canvass([Scene("x", END - timedelta(hours=1), END, lat=33.78, lon=bad, radius_m=300)])


def test_a_whole_plate_that_matches_nothing_hints_at_wildcards(analyst_case):
    result = analyst_case.search_plates("7WXB12", END - timedelta(days=60), END)
    assert len(result) == 0 and any("? (one) or * (any run)" in warning for warning in result.warnings)


def test_an_outage_during_a_call_says_its_outcome_is_unknown(settings, superuser, connect_as):
    """The server drops the connection while a retention run (a change) is under way: the client says it may have
    been recorded and how to check, never a raw driver error."""
    admin = workbench.connect(user="admin_adams", password=PASSWORDS["admin_adams"], settings=settings)
    holder = psycopg2.connect(host=admin.engine.url.host, port=admin.engine.url.port, dbname=admin.engine.url.database,
                              user="postgres", password=superuser.info.password)
    try:
        with holder.cursor() as cursor:  # holds the retention run's lock row, so the run waits
            cursor.execute("SELECT 1 FROM alpr.job_locks WHERE job = 'retention_run' FOR UPDATE")
        import threading

        outcome: list[BaseException] = []

        def run() -> None:
            try:
                admin.retention_run(dry_run=True)
            except BaseException as exc:  # kept for the assertion below
                outcome.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        for _ in range(50):
            with superuser.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE usename = 'admin_adams' "
                               "AND query LIKE '%retention_run%' AND state = 'active'")
                row = cursor.fetchone()
            if row:
                break
            worker.join(0.1)
        with superuser.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", row)
        worker.join(10)
    finally:
        holder.rollback()
        holder.close()
        admin.close()
    assert outcome and isinstance(outcome[0], OutcomeUnknown)
    assert "may already be recorded" in str(outcome[0]) and "audit log" in str(outcome[0])


def test_footage_files_that_are_not_what_they_say(tmp_path):
    import struct
    import zlib

    import cv2

    huge = tmp_path / "huge.png"  # 20000x20000 one-bit black: tens of KB on disk, 1.2 GB once decoded
    row = b"\x00" + b"\x00" * 2500
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                + struct.pack(">I", zlib.crc32(kind + data)))
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(row * 20000, 9)) + chunk(b"IEND", b""))
    assert huge.stat().st_size < 1_000_000
    with pytest.raises(FootageError, match="refused"):
        probe(huge)
    fake = tmp_path / "clip.mp4"
    cv2.imwrite(str(tmp_path / "still.png"), np.zeros((40, 60, 3), np.uint8))
    fake.write_bytes((tmp_path / "still.png").read_bytes())
    with pytest.raises(FootageError, match="an image named as a video"):
        probe(fake)


def test_a_nul_in_a_hot_list_is_refused_in_the_audited_path(connect_as, superuser, tmp_path):
    path = tmp_path / "wants.csv"
    path.write_bytes(b"plate,reason\n7WX\x00B124,robbery suspect vehicle\n")
    before = last_audit_id(superuser)
    with pytest.raises(InvalidQuery, match="row 1: plate") as refused:
        connect_as("admin_adams").import_hotlist("NUL list (test)", "test", path)
    assert "SELECT" not in str(refused.value)
    assert [r["function_name"] for r in audit_rows(superuser, before)] == ["hotlist_import"]
