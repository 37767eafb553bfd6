"""An agency's own reads into the store (#18): file imports validated row by row with every refusal kept,
idempotent on the source's read keys, audited with the file's hash; hot lists matched as reads arrive; a
feeder login that writes through the functions and reads nothing; transfers watched."""

from __future__ import annotations

import hashlib
import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg2
import pytest
from PIL import Image

from workbench import connect
from workbench.errors import InvalidQuery, NotAuthorized
from workbench.ingest import parse_file
from workbench.ingest.formats import FileFormatError
from workbench.policy import load_profile
from workbench.schedule import scheduled_jobs

from .conftest import RECENT_LOG, audit_rows, last_audit_id

BBOX = load_profile("lapd").data["agency"]["jurisdiction_bbox"]
LAT = (BBOX[1] + BBOX[3]) / 2
LON = (BBOX[0] + BBOX[2]) / 2
FEEDER_PASSWORD = "feeder-test-password-2026"


def jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 32), (seed % 255, 80, 160)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def admin(connect_as):
    return connect_as("admin_adams")


@pytest.fixture(scope="module")
def source(admin):
    name = f"t-fixed-{uuid.uuid4().hex[:6]}"
    admin.register_source(name, "fixed")
    cameras = [f"{name}-c1", f"{name}-c2"]
    for offset, camera in enumerate(cameras):
        admin.register_camera(name, camera, LAT + offset * 0.01, LON, name=f"camera {offset}", heading_deg=90)
    return name, cameras


@pytest.fixture(scope="module")
def feeder(settings, admin):
    login = f"feeder_{uuid.uuid4().hex[:6]}"
    admin.create_user(login, "Feed service (test)", "feeder", password=FEEDER_PASSWORD)
    wb = connect(user=login, password=FEEDER_PASSWORD, settings=settings)
    yield login, wb
    wb.close()


def recent(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def good_row(plate: str, camera: str, hours: float, vendor_id: str, **extra) -> dict:
    return {"plate": plate, "read_at": recent(hours), "camera_id": camera, "lat": "", "lon": "", "heading_deg": "90",
            "confidence": "0.93", "state": "ca", "vehicle_make": "Toyota", "vehicle_color": "Silver",
            "image": "", "vendor_read_id": vendor_id, **extra}


def write_csv(folder, name: str, rows: list[dict]) -> object:
    path = folder / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_csv_import_keeps_every_refusal_with_its_reason_and_adds_nothing_twice(admin, source, superuser, tmp_path):
    name, (camera, other_camera) = source
    tag = uuid.uuid4().hex[:4].upper()
    (tmp_path / "plate.jpg").write_bytes(jpeg(7))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    good = [good_row(f"{tag}GD{i}", camera if i % 2 else other_camera, 5 + i, f"{tag}-{i}") for i in range(5)]
    good.append(good_row(f"{tag}IMG", camera, 3, f"{tag}-img", image="plate.jpg"))
    bad = {
        "read time has no time zone": good_row(f"{tag}B1", camera, 1, f"{tag}-b1", read_at="2026-10-20T10:00:00"),
        "unparseable read time": good_row(f"{tag}B2", camera, 1, f"{tag}-b2", read_at="2026-13-45T10:00:00Z"),
        "outside the agency's jurisdiction": good_row(f"{tag}B3", camera, 1, f"{tag}-b3", lat="40.71", lon="-74.0"),
        "empty plate": good_row("", camera, 1, f"{tag}-b4"),
        "impossible plate: characters other than letters and digits": good_row("AB$%12", camera, 1, f"{tag}-b5"),
        "unknown camera": good_row(f"{tag}B6", "nobody-registered-this", 1, f"{tag}-b6"),
        "image does not decode": good_row(f"{tag}B7", camera, 1, f"{tag}-b7", image="broken.jpg"),
        "read time in the future": good_row(f"{tag}B8", camera, -48, f"{tag}-b8"),
        "unparseable lat": good_row(f"{tag}B9", camera, 1, f"{tag}-b9", lat="north-ish", lon=str(LON)),
    }
    repeat = dict(good[0])  # the same vendor read twice in one file
    path = write_csv(tmp_path, "export.csv", [*good, *bad.values(), repeat])
    before = last_audit_id(superuser)

    report = admin.import_reads(path, "fixed", source_name=name, progress=False)

    assert (report.accepted, report.rejected, report.duplicates) == (6, len(bad), 1)
    rejects = admin.import_rejects(report.import_id)
    by_line = dict(zip(rejects["line_no"], rejects["reason"], strict=True))
    for offset, expected in enumerate(bad):
        assert by_line[len(good) + offset + 2].startswith(expected), (expected, by_line[len(good) + offset + 2])
    assert rejects.loc[rejects["line_no"] == len(good) + 2, "as_given"].iloc[0]  # the row as it came
    record = [r for r in audit_rows(superuser, before) if r["function_name"] == "import_reads"]
    assert len(record) == 1 and record[0]["outcome"] == "granted"
    assert record[0]["parameters"]["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record[0]["parameters"]["accepted"] == 6
    with superuser.cursor() as cursor:
        cursor.execute("SELECT i.sha256, r.source, r.heading_deg, r.state, r.confidence FROM alpr.reads r "
                       "JOIN alpr.read_images i ON i.image_id = r.plate_image_id WHERE r.plate = %s", (f"{tag}IMG",))
        sha, kind, heading, state, confidence = cursor.fetchone()
        assert sha == hashlib.sha256(jpeg(7)).hexdigest() and kind == "fixed" and heading == 90 and state == "CA"
        assert confidence == pytest.approx(0.93)
        # Located at the registered camera (the rows carried no coordinates).
        cursor.execute("SELECT ST_Y(location::geometry) FROM alpr.reads WHERE plate = %s", (f"{tag}GD1",))
        assert cursor.fetchone()[0] == pytest.approx(LAT)

    again = admin.import_reads(path, "fixed", source_name=name, progress=False)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 7, len(bad))

    overlap = write_csv(tmp_path, "overlap.csv", [*good[:3], good_row(f"{tag}NEW1", camera, 2, f"{tag}-n1"),
                                                  good_row(f"{tag}NEW2", camera, 2, f"{tag}-n2")])
    more = admin.import_reads(overlap, "fixed", source_name=name, progress=False)
    assert (more.accepted, more.duplicates, more.rejected) == (2, 3, 0)
    with superuser.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM alpr.reads WHERE plate LIKE %s", (f"{tag}%",))
        assert cursor.fetchone()[0] == 8


def test_reads_without_a_vendor_id_are_matched_on_their_content(admin, source, tmp_path):
    name, (camera, _) = source
    tag = uuid.uuid4().hex[:4].upper()
    rows = [good_row(f"{tag}CK{i}", camera, 4 + i, "") for i in range(3)]
    path = write_csv(tmp_path, "no-ids.csv", rows)
    first = admin.import_reads(path, "fixed", source_name=name, progress=False)
    second = admin.import_reads(path, "fixed", source_name=name, progress=False)
    assert (first.accepted, second.accepted, second.duplicates) == (3, 0, 3)


def test_hot_list_hits_appear_as_reads_arrive(admin, source, tmp_path, connect_as, cases):
    name, (camera, _) = source
    plate = f"H{uuid.uuid4().hex[:5].upper()}"
    admin.import_hotlist(f"imports test {plate}", "test", pd.DataFrame([
        {"plate": plate, "state": "CA", "reason": "Stolen vehicle (test)", "source": "NCIC"}]))
    path = write_csv(tmp_path, "hit.csv", [good_row(plate, camera, 1, f"{plate}-1")])
    report = admin.import_reads(path, "fixed", source_name=name, progress=False)
    assert report.hits == 1 and "verify through CLETS/NCIC" in report.message
    case = connect_as("analyst_avery").open_case(cases[0], "criminal_investigation",
                                                 "Checking new hot-list hits from the imported fixed camera reads")
    hits = case.hits(datetime.now(UTC) - timedelta(hours=3), datetime.now(UTC))
    assert plate in set(hits.reads["plate"])


def test_a_file_that_is_not_what_it_says_is_refused_whole_before_the_store_is_touched(admin, source, superuser,
                                                                                        tmp_path):
    name, _ = source
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("licence,when,where\nABC123,2026-10-01T10:00:00Z,here\n")
    truncated = tmp_path / "agent.json"
    truncated.write_text('[{"data_type": "alpr_group", "epoch_start": 1790000000000, "best_plate_number": "AB')
    not_parquet = tmp_path / "reads.parquet"
    not_parquet.write_text("plate,read_at\n")
    with superuser.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM alpr.read_imports")
        imports_before = cursor.fetchone()[0]
    with pytest.raises(FileFormatError, match=r"missing plate, read_at, camera_id; unknown licence, when, where"):
        admin.import_reads(wrong, "fixed", source_name=name, progress=False)
    with pytest.raises(FileFormatError, match=r"not complete JSON \(truncated\?\)"):
        admin.import_reads(truncated, "fixed", source_name=name, progress=False)
    with pytest.raises(FileFormatError, match="not a Parquet file"):
        admin.import_reads(not_parquet, "fixed", source_name=name, progress=False)
    with superuser.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM alpr.read_imports")
        assert cursor.fetchone()[0] == imports_before


def test_openalpr_agent_messages_and_frigate_events(admin, superuser, tmp_path):
    agent = f"t-agent-{uuid.uuid4().hex[:6]}"
    admin.register_source(agent, "fixed", cameras_registered=False)
    epoch = int((datetime.now(UTC) - timedelta(hours=2)).timestamp() * 1000)
    tag = uuid.uuid4().hex[:4].upper()
    messages = [
        {"version": 2, "data_type": "alpr_group", "epoch_start": epoch, "epoch_end": epoch + 900, "site_id": agent,
         "camera_id": 17, "best_plate_number": f"{tag}GRP", "best_confidence": 91.5, "best_region": "us-ca",
         "best_uuid": f"{agent}-cam17-{epoch}", "gps_latitude": LAT, "gps_longitude": LON, "travel_direction": 181.0,
         "best_plate": {"plate": f"{tag}GRP", "confidence": 91.5, "plate_crop_jpeg": __import__("base64").b64encode(
             jpeg(3)).decode()},
         "vehicle": {"make": [{"name": "honda", "confidence": 71.0}], "color": [{"name": "blue", "confidence": 80}]}},
        {"version": 2, "data_type": "heartbeat", "site_id": agent, "timestamp": epoch},
        {"data_type": "alpr_results", "epoch_time": epoch, "uuid": f"{tag}-frame", "site_id": agent, "camera_id": 17,
         "gps_latitude": LAT, "gps_longitude": LON,
         "results": [{"plate": f"{tag}R1", "confidence": 80.0, "region": "ca"},
                     {"plate": f"{tag}R2", "confidence": 70.0, "region": "nv"}]},
    ]
    path = tmp_path / "agent.jsonl"
    path.write_text("\n".join(json.dumps(m) for m in messages) + "\n")
    report = admin.import_reads(path, "fixed", source_name=agent, progress=False)
    assert (report.accepted, report.rejected, report.not_reads) == (3, 0, 1)
    with superuser.cursor() as cursor:
        cursor.execute("SELECT camera_id, state, vehicle_make, vehicle_color, confidence, heading_deg, "
                       "plate_image_id IS NOT NULL FROM alpr.reads WHERE plate = %s", (f"{tag}GRP",))
        assert cursor.fetchone() == (f"{agent}:17", "CA", "honda", "blue", pytest.approx(0.915), 181.0, True)
        cursor.execute("SELECT source_id IS NOT NULL FROM alpr.cameras WHERE camera_id = %s", (f"{agent}:17",))
        assert cursor.fetchone() == (True,)  # registered at its first read

    frigate = f"t-frigate-{uuid.uuid4().hex[:6]}"
    admin.register_source(frigate, "fixed")
    admin.register_camera(frigate, "driveway", LAT, LON)
    start = (datetime.now(UTC) - timedelta(hours=1)).timestamp()
    events = [
        {"type": "update", "after": {"id": f"{start}-abc", "camera": "driveway", "label": "car", "start_time": start,
                                     "recognized_license_plate": f"{tag}FRG", "recognized_license_plate_score": 0.88}},
        {"type": "end", "after": {"id": f"{start}-abc", "camera": "driveway", "label": "car", "start_time": start,
                                  "recognized_license_plate": f"{tag}FRG", "recognized_license_plate_score": 0.9}},
        {"type": "end", "after": {"id": f"{start}-person", "camera": "driveway", "label": "person", "start_time": start}},
        {"type": "lpr", "name": None, "plate": f"{tag}LPR", "score": 0.77, "id": f"{start}-xyz", "camera": "driveway",
         "timestamp": start + 5},
    ]
    events_path = tmp_path / "frigate.json"
    events_path.write_text(json.dumps(events))
    report = admin.import_reads(events_path, "fixed", source_name=frigate, progress=False)
    # One read per tracked object: the event's later message is a duplicate; the person is not a read.
    assert (report.accepted, report.duplicates, report.not_reads) == (2, 1, 1)


def test_a_vendor_csv_through_the_shipped_mapping(admin, source, superuser, tmp_path):
    name, (camera, _) = source
    tag = uuid.uuid4().hex[:4].upper()
    local = (datetime.now(UTC) - timedelta(hours=6)).astimezone(__import__("zoneinfo").ZoneInfo("America/Los_Angeles"))
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "1.jpg").write_bytes(jpeg(11))
    export = tmp_path / "vendor.csv"
    export.write_text(
        "ReadID,Plate,State,CaptureTime,CameraName,Latitude,Longitude,Direction,Confidence,Make,Color,PlateImage\n"
        f"{tag}1,{tag}MAP,CA,{local:%m/%d/%Y %H:%M:%S},{camera},{LAT},{LON},182,97,Toyota,Silver,img/1.jpg\n"
        f"{tag}2,{tag}BAD,CA,31/31/2026 99:00:00,{camera},{LAT},{LON},182,97,Toyota,Silver,\n")
    report = admin.import_reads(export, "fixed", source_name=name, mapping="generic_fixed_camera", progress=False)
    assert (report.accepted, report.rejected) == (1, 1)
    with superuser.cursor() as cursor:
        cursor.execute("SELECT read_at, confidence, vendor_read_id FROM alpr.reads WHERE plate = %s", (f"{tag}MAP",))
        read_at, confidence, vendor_id = cursor.fetchone()
    assert abs((read_at - local).total_seconds()) < 1 and confidence == pytest.approx(0.97) and vendor_id == f"{tag}1"
    assert admin.import_rejects(report.import_id)["reason"].iloc[0].startswith("unparseable read time")


def test_parquet_in_the_workbench_layout(admin, source, tmp_path):
    name, (camera, _) = source
    tag = uuid.uuid4().hex[:4].upper()
    frame = pd.DataFrame({"plate": [f"{tag}PQ1", f"{tag}PQ2"], "camera_id": [camera, camera],
                          "read_at": pd.to_datetime([recent(2), recent(3)], utc=True), "confidence": [0.9, 0.8]})
    frame.to_parquet(tmp_path / "reads.parquet")
    naive = frame.assign(read_at=frame["read_at"].dt.tz_localize(None), plate=[f"{tag}PN1", f"{tag}PN2"])
    naive.to_parquet(tmp_path / "naive.parquet")
    assert admin.import_reads(tmp_path / "reads.parquet", "fixed", source_name=name, progress=False).accepted == 2
    refused = admin.import_reads(tmp_path / "naive.parquet", "fixed", source_name=name, progress=False)
    assert (refused.accepted, refused.rejected) == (0, 2)
    assert set(admin.import_rejects(refused.import_id)["reason"].str.slice(0, 27)) == {"read time has no time zone:"}


def test_feeder_writes_through_the_functions_and_reads_nothing(feeder, source, settings, tmp_path, superuser):
    login, wb = feeder
    name, (camera, _) = source
    tag = uuid.uuid4().hex[:4].upper()
    report = wb.import_reads(write_csv(tmp_path, "feed.csv", [good_row(f"{tag}FD", camera, 1, f"{tag}-fd")]),
                             "fixed", source_name=name, progress=False)
    assert report.accepted == 1
    url = wb.engine.url
    attacker = psycopg2.connect(host=url.host, port=url.port, user=login, password=FEEDER_PASSWORD, dbname=url.database)
    attacker.autocommit = True
    try:
        with attacker.cursor() as cursor:
            for attack in ("SELECT count(*) FROM alpr.reads", "SELECT * FROM alpr.read_keys LIMIT 1",
                           "SELECT * FROM alpr.import_rejects LIMIT 1"):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cursor.execute(attack)
            # The data functions are not the feeder's.
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("SELECT * FROM api.search_plates(NULL, 'A%%', now() - interval '1 day', now(), false, "
                               "10, NULL, NULL)")
            # An open import's staging table takes rows from its starter only, and shows nobody anything.
            admin_import = connect(user="admin_adams", password="adams-demo-2026", settings=settings)
            try:
                _, staging = admin_import.begin_import(name, "workbench", "x.csv", "0" * 64)
            finally:
                admin_import.close()
            schema, table = staging.split(".")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute(f'INSERT INTO {schema}."{table}" (line_no, plate_raw) VALUES (1, %s)', (f"{tag}X",))
            cursor.execute("SELECT * FROM api.begin_import(%s, 'workbench', 'y.csv', %s)", (name, "1" * 64))
            own_table = cursor.fetchone()[-1]["staging_table"]
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute(f'SELECT * FROM staging."{own_table.split(".")[1]}"')
            # Another login's import cannot be finished or read by this one.
            cursor.execute("SELECT outcome, reason_code FROM api.finish_import(%s)", (_import_id_of(superuser, table),))
            assert cursor.fetchone() == ("denied", "unknown_import")
    finally:
        attacker.close()


def _import_id_of(superuser, staging_table: str) -> str:
    with superuser.cursor() as cursor:
        cursor.execute("SELECT import_id FROM alpr.read_imports WHERE staging_table = %s", (staging_table,))
        return str(cursor.fetchone()[0])


def test_roles_that_may_not_import_are_refused_and_on_the_record(connect_as, source, superuser, tmp_path):
    name, (camera, _) = source
    analyst = connect_as("analyst_avery")
    with pytest.raises(NotAuthorized) as refused:
        analyst.import_reads(write_csv(tmp_path, "x.csv", [good_row("ABC123", camera, 1, "x-1")]), "fixed",
                             source_name=name, progress=False)
    # No EXECUTE for data users: the server refuses it, and its log (the second record) has the attempt.
    assert refused.value.reason == "permission_denied"
    deadline = time.monotonic() + 10
    with superuser.cursor() as cursor:
        while True:
            cursor.execute(RECENT_LOG)
            lines = [line for line in cursor.fetchone()[0].splitlines()
                     if "permission denied for function begin_import" in line and "analyst_avery" in line]
            if lines or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert lines
    before = last_audit_id(superuser)
    with pytest.raises(InvalidQuery, match="jurisdiction"):
        connect_as("admin_adams").register_camera(name, "far-away", 40.7, -74.0)
    assert [(r["function_name"], r["outcome"]) for r in audit_rows(superuser, before)] == [("register_camera", "denied")]


def test_stale_transfers_are_reported_and_checked_on_schedule(admin, source, superuser, connect_as, admin_url):
    name, (camera, _) = source
    with superuser.cursor() as cursor:
        cursor.execute("UPDATE alpr.read_sources SET last_transfer_at = now() - interval '45 days' WHERE name = %s",
                       (name,))
    status = connect_as("supervisor_sato").transfer_status()
    assert status.max_days_between == 30
    assert name in set(status.stale.get("name", pd.Series(dtype=str)))
    before = last_audit_id(superuser)
    with superuser.cursor() as cursor:
        cursor.execute("SELECT alpr.scheduled_transfer_check()")
        assert cursor.fetchone()[0] >= 1
    check = [r for r in audit_rows(superuser, before) if r["function_name"] == "transfer_check"]
    assert check and "stale_transfer" in check[0]["flags"] and name in check[0]["parameters"]["stale"]
    jobs = {job: when for job, when, _ in scheduled_jobs(admin_url)}
    database = admin_url.database
    assert jobs["workbench-retention-" + database] == "15 3 * * *"
    assert jobs["workbench-hotlists-" + database] == "*/10 * * * *"
    assert jobs["workbench-transfers-" + database] == "0 14 * * *"


def test_parse_only_shapes_rows(tmp_path):
    path = write_csv(tmp_path, "shape.csv", [good_row("7abc 123", "cam", 1, "v1")])
    frame = parse_file(path, "workbench").frame
    assert frame.loc[0, "plate_raw"] == "7abc 123" and frame.loc[0, "state"] == "CA"
    assert frame.loc[0, "reject_reason"] is None
