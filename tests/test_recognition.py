"""Footage recognition with the real models (YOLO plate detector, EasyOCR with the shipped plate
recognizer) on footage the tests make themselves; review and audited ingest through PostGIS."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from workbench.errors import FootageError, FootageRefused, ModelWeightsError
from workbench.recognition import models
from workbench.recognition.ocr import PlateReader, PlateText
from workbench.recognition.pipeline import Recognizer
from workbench.recognition.results import CameraPlacement
from workbench.recognition.review import Review
from workbench.recognition.train import train
from workbench.recognition.voting import vote
from workbench.sample.footage import write_clip, write_photo
from workbench.sample.generator import scenarios
from workbench.settings import load_settings

from .conftest import END, audit_rows, last_audit_id

PLAN = scenarios(END)
CAMERA = CameraPlacement(33.7701, -118.1937, datetime(2026, 10, 20, 14, 5, tzinfo=UTC), heading_deg=90,
                         clock_offset_s=-30, label="Liquor store CCTV, 4th and Cherry")


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uploads")
    write_clip(folder / "two_cars.mp4", [PLAN.stolen_plates[0], "8FHZ512"], seconds=4, seed=3)
    write_photo(folder / "one_car.jpg", "5KDN204", seed=4)
    return folder


@pytest.fixture(scope="module")
def recognizer(uploads):
    return Recognizer(load_settings({"upload_dir": str(uploads)}))


@pytest.fixture(scope="module")
def clip_reads(recognizer):
    return recognizer.run("two_cars.mp4", CAMERA, progress=False)


def test_a_clip_gives_one_read_per_car_read_right(clip_reads):
    """Tracking makes each passing car one read; the vote over its looks reads the plate."""
    assert list(clip_reads.text) == [PLAN.stolen_plates[0], "8FHZ512"]
    assert (clip_reads.looks >= 3).all()
    assert (clip_reads.confidence > 0.5).all()
    assert clip_reads.first_seen_s[0] < clip_reads.first_seen_s[1]
    frame = clip_reads.to_dataframe()
    assert frame.loc[0, "read_at"] == CAMERA.start + timedelta(seconds=float(
        (clip_reads.first_seen_s[0] + clip_reads.last_seen_s[0]) / 2) - 30)
    per_character = frame.loc[0, "char_confidence"].split()
    assert len(per_character) == len(PLAN.stolen_plates[0]) and all(0 < float(c) <= 1 for c in per_character)


def test_a_photo_is_read(recognizer):
    reads = recognizer.run("one_car.jpg", CAMERA, progress=False)
    assert list(reads.text) == ["5KDN204"] and reads.looks[0] == 1


def test_a_photo_without_a_plate_gives_no_reads(recognizer, uploads):
    cv2.imwrite(str(uploads / "empty_street.png"), np.full((480, 640, 3), 90, np.uint8))
    assert len(recognizer.run("empty_street.png", CAMERA, progress=False)) == 0


def test_results_index_like_arrays(clip_reads):
    confident = clip_reads[clip_reads.confidence > 0.5]
    assert len(confident) == 2 and confident.box.shape == (2, 4)
    assert list(clip_reads[[1]].text) == ["8FHZ512"]


@pytest.mark.parametrize(("name", "make", "message"), [
    ("../outside.mp4", None, "outside the upload folder"),
    ("garbage.mp4", lambda p: p.write_bytes(b"\x00\x01not a video" * 100), "not a video OpenCV can open"),
    ("notes.txt", lambda p: p.write_text("hello"), "unsupported kind .txt"),
    ("broken.jpg", lambda p: p.write_bytes(b"\xff\xd8\xff\xe0 truncated"), "not an image OpenCV can decode"),
    ("empty.avi", lambda p: cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 64)).release(),
     "no frame that can be decoded"),
    ("huge.png", lambda p: cv2.imwrite(str(p), np.zeros((4400, 7700), np.uint8)), "larger than 8K"),
    ("missing.mp4", None, "no footage at"),
])
def test_bad_footage_gets_a_specific_error(recognizer, uploads, name, make, message):
    if make is not None:
        make(uploads / name)
    with pytest.raises(FootageError, match=message):
        recognizer.run(name, CAMERA, progress=False)


@pytest.mark.parametrize(("lat", "lon", "start", "message"), [
    (133.0, -118.2, datetime(2026, 10, 20, tzinfo=UTC), "latitude comes first"),
    (33.7, -118.2, datetime(2026, 10, 20), "time zone"),
])
def test_a_bad_camera_placement_is_refused(lat, lon, start, message):
    with pytest.raises(FootageError, match=message):
        CameraPlacement(lat, lon, start)


def test_missing_weights_say_what_to_install(tmp_path):
    with pytest.raises(ModelWeightsError, match="not a file"):
        models.detector_weights(load_settings({"detector_weights": str(tmp_path / "nope.pt")}))
    with pytest.raises(ModelWeightsError, match="lacks plate_recognizer.pth"):
        models.recognizer_dir(load_settings({"plate_recognizer_dir": str(tmp_path)}))
    assert models.detector_weights().name == "best.pt"  # found through the installed fastanpr package


@pytest.mark.parametrize(("readings", "expected"), [
    ([PlateText("7WXB124", (0.9,) * 7)] * 3, "7WXB124"),
    ([PlateText("7WX8124", (0.9, 0.9, 0.9, 0.4, 0.9, 0.9, 0.9)), PlateText("7WXB124", (0.9,) * 7),
      PlateText("7WXB124", (0.8,) * 7)], "7WXB124"),
    ([PlateText("7WXB1244", (0.3,) * 8), PlateText("7WXB124", (0.9,) * 7), PlateText("7WXB124", (0.9,) * 7)],
     "7WXB124"),
    ([PlateText(""), PlateText("")], ""),
])
def test_vote_per_character(readings, expected):
    assert vote(readings).text == expected


def test_vote_keeps_the_losing_character():
    result = vote([PlateText("7WX8124", (0.9,) * 7), PlateText("7WXB124", (0.95,) * 7),
                   PlateText("7WXB124", (0.95,) * 7)])
    assert result.alternatives[3][0] == "8" and result.agreeing == 2


def test_review_and_audited_ingest_under_the_case(clip_reads, analyst_case, superuser):
    review = Review(clip_reads)
    review.confirm(0)
    with pytest.raises(FootageError, match="undecided"):
        analyst_case.save_footage_reads(review)
    review.correct(1, "8FH-Z512")
    before = last_audit_id(superuser)
    saved = analyst_case.save_footage_reads(review, progress=False)
    assert len(saved.read_ids) == 2
    with superuser.cursor() as cursor:
        cursor.execute("SELECT plate, plate_raw, source, case_number, verified_by, review_decision, ocr_text, "
                       "plate_image_id IS NOT NULL, camera_id, footage_id FROM alpr.reads WHERE read_id = ANY (%s) "
                       "ORDER BY read_id", (saved.read_ids,))
        rows = cursor.fetchall()
        cursor.execute("SELECT f.sha256, f.size_bytes, f.frame_count, f.uploaded_by, e.sealed_at IS NOT NULL, "
                       "(SELECT sum(length(content)) FROM alpr.evidence_chunks c WHERE c.sha256 = f.sha256) "
                       "FROM alpr.footage f JOIN alpr.evidence_files e USING (sha256) WHERE f.footage_id = %s",
                       (saved.footage_id,))
        evidence = cursor.fetchone()
    assert rows[0][:7] == (PLAN.stolen_plates[0], PLAN.stolen_plates[0], "footage", analyst_case.case_number,
                           "analyst_avery", "confirmed", PLAN.stolen_plates[0])
    assert rows[1][0] == "8FHZ512" and rows[1][6] == clip_reads.text[1] and rows[1][7]
    assert rows[1][5] == ("confirmed" if clip_reads.text[1] == "8FHZ512" else "corrected")
    # The footage itself is evidence: its bytes are in the store, checked by the database, and the camera record
    # is the one the database made for the registration.
    path = clip_reads.footage.path
    assert evidence == (clip_reads.footage.sha256, path.stat().st_size, clip_reads.footage.frames, "analyst_avery",
                        True, path.stat().st_size)
    assert {row[8] for row in rows} == {saved.camera_id} == {f"FTG-{saved.footage_id}"}
    # A stolen plate on the hot list is flagged at once, with the verification warning.
    assert list(saved.hits["listed_plate"]) == [PLAN.stolen_plates[0]]
    assert "verify through CLETS/NCIC" in saved.warnings[0]
    crop = analyst_case.read_image(saved.read_ids[0])
    assert cv2.imdecode(np.frombuffer(crop, np.uint8), cv2.IMREAD_COLOR) is not None
    audit = audit_rows(superuser, before)
    ingest = [r for r in audit if r["function_name"] == "ingest_footage_reads"]
    assert ingest[0]["outcome"] == "granted" and ingest[0]["rows_returned"] == 2
    assert {"footage_ingest", "footage_hit"} <= set(ingest[0]["flags"])
    # The same review saved again (a retry): the first answer, nothing stored twice.
    again = analyst_case.save_footage_reads(review, progress=False)
    assert again.read_ids == saved.read_ids
    # Another review of the same footage: only what is new is saved.
    other = Review(clip_reads)
    other.confirm(0)
    other.reject(1)
    merged = analyst_case.save_footage_reads(other, progress=False)
    assert merged.read_ids == [] and merged.merged == 1
    with superuser.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM alpr.reads WHERE footage_id = %s", (saved.footage_id,))
        assert cursor.fetchone()[0] == 2


def _registered(analyst_case, clip_reads) -> tuple[int, list[dict]]:
    review = Review(clip_reads)
    review.confirm(0)
    review.reject(1)
    footage, reads = review.payload()
    return analyst_case._store_footage(clip_reads.footage, footage, progress=False), reads


def test_a_refused_ingest_saves_nothing_and_is_audited(clip_reads, analyst_case, superuser):
    footage_id, reads = _registered(analyst_case, clip_reads)
    reads = [dict(reads[0], read_at=(datetime.fromisoformat(reads[0]["read_at"]) + timedelta(seconds=1)).isoformat())]
    before = last_audit_id(superuser)
    with superuser.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM alpr.reads WHERE source = 'footage'")
        footage_reads = cursor.fetchone()[0]
    planted = [
        ([dict(reads[0], plate="NOT A PLATE!")], "read 1: plate"),
        ([dict(reads[0], review="pending")], "only reads a person confirmed or corrected"),
        ([dict(reads[0], read_at=(END - timedelta(days=12)).isoformat())], "is not within the footage"),  # the crime's time
        ([dict(reads[0], read_at="2019-06-01T12:00:00+00:00")], "is not within the footage"),
        ([dict(reads[0], crop_jpeg_base64="bm90IGFuIGltYWdl")], "JPEG or PNG plate image"),  # "not an image"
        ([dict(reads[0], ocr_text="")], "recognizer's own text"),
    ]
    for bad, message in planted:
        with pytest.raises(FootageRefused, match=message):
            analyst_case._run("ingest_footage_reads", footage_id=footage_id, reads=json.dumps(bad))
    with pytest.raises(FootageRefused, match="not registered and uploaded under case"):  # a made-up footage id
        analyst_case._run("ingest_footage_reads", footage_id=footage_id + 1000, reads=json.dumps(reads))
    with superuser.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM alpr.reads WHERE source = 'footage'")
        assert cursor.fetchone()[0] == footage_reads
    assert [r["outcome"] for r in audit_rows(superuser, before)] == ["denied"] * (len(planted) + 1)


def test_footage_of_another_case_cannot_carry_reads(clip_reads, analyst_case, connect_as, cases):
    footage_id, reads = _registered(analyst_case, clip_reads)
    other = connect_as("analyst_avery").open_case(cases[1], "criminal_investigation",
                                                  "Stolen vehicle: footage from the recovery lot")
    with pytest.raises(FootageRefused, match=f"under case {cases[1]}"):
        other._run("ingest_footage_reads", footage_id=footage_id, reads=json.dumps(reads))


def test_an_upload_that_is_not_the_registered_file_is_refused(clip_reads, analyst_case, superuser, tmp_path):
    info = clip_reads.footage
    content = info.path.read_bytes()
    fake = hashlib.sha256(b"some other file").hexdigest()
    meta = {"file_name": "doctored.mp4", "sha256": fake, "size_bytes": len(content), "media_type": "video/mp4",
            "duration_s": info.duration_s, "frame_count": info.frames, "recorded_start": CAMERA.start.isoformat(),
            "lat": CAMERA.lat, "lon": CAMERA.lon}
    registered = analyst_case._change("register_footage", meta=json.dumps(meta)).details
    row = analyst_case.workbench._call("upload_footage_chunk", access_id=analyst_case.grant.access_id,
                                       footage_id=registered["footage_id"], seq=0, content=content)[0]
    assert row.outcome == "granted"
    with pytest.raises(FootageRefused, match="is not the registered file"):
        analyst_case._change("seal_footage", footage_id=registered["footage_id"])
    with superuser.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM alpr.evidence_chunks WHERE sha256 = %s", (fake,))
        assert cursor.fetchone()[0] == 0


def test_evaluate_on_an_agencys_own_labelled_photos(recognizer, tmp_path):
    """`workbench recognize evaluate`'s core: accuracy against the labels, broken down by condition."""
    from workbench.recognition.evaluate import evaluate, read_labels

    for name, plate, seed in (("a.jpg", "5KDN204", 4), ("b.jpg", "7WXB124", 5), ("c.jpg", "4MBX209", 6)):
        write_photo(tmp_path / name, plate, seed=seed)
    (tmp_path / "labels.csv").write_text("file,plate,condition\na.jpg,5KDN204,day\nb.jpg,7WX-B124,day\n"
                                         "c.jpg,4MBX2O8,night\n")  # c is mislabelled on purpose: 9 -> 8
    photos = read_labels(tmp_path / "labels.csv", tmp_path)
    summary = evaluate(photos, recognizer, progress=False).summary(by="condition")
    assert summary["photos"] == 3 and summary["exact"] == round(2 / 3, 3) and summary["within_one"] == 1.0
    assert summary["by_condition"]["day"]["exact"] == 1.0 and summary["by_condition"]["night"]["exact"] == 0.0
    (tmp_path / "bad.csv").write_text("image,text\na.jpg,5KDN204\n")
    with pytest.raises(FootageError, match="needs columns file and plate"):
        read_labels(tmp_path / "bad.csv", tmp_path)


def test_a_reading_longer_than_any_us_plate_loses_its_least_confident_end():
    from workbench.recognition.ocr import trim_to_length

    chars, confidences, _ = trim_to_length(list("5LTA400L"), [0.9] * 7 + [0.3], [("", 0.0)] * 8, 7)
    assert "".join(chars) == "5LTA400" and len(confidences) == 7
    chars, _, alternatives = trim_to_length(list("I7WXB124"), [0.2] + [0.9] * 7, [("1", 0.1)] + [("", 0.0)] * 7, 7)
    assert "".join(chars) == "7WXB124" and alternatives[0] == ("", 0.0)
    assert trim_to_length(list("ABC123"), [0.5] * 6, [("", 0.0)] * 6, 7)[0] == list("ABC123")


def test_a_reading_one_look_alike_from_a_standard_us_format_takes_the_swap():
    from workbench.recognition.ocr import fit_format as fit
    from workbench.recognition.ocr import load_rules

    us_formats = load_rules()["us"].formats

    def fit_us_format(chars, confidences, alternatives, by_kind):
        return fit(chars, confidences, alternatives, by_kind, us_formats)

    def kinds(**per_position):
        return [per_position.get(f"p{i}", {"L": ("A", 0.0), "D": ("1", 0.0)}) for i in range(7)]

    confident = [0.9] * 7
    # CLTD108: LLL then D where a digit belongs; the network's best digit there is 0 at 0.2.
    chars, confidences, alternatives = fit_us_format(list("CLTD108"), confident, [("", 0.0)] * 7,
                                                     kinds(p3={"L": ("D", 0.7), "D": ("0", 0.2)}))
    assert "".join(chars) == "CLT0108" and confidences[3] == 0.2 and alternatives[3] == ("D", 0.9)
    # Too unlikely a swap is not taken; nor where two positions disagree with every format (DH7X317).
    assert fit_us_format(list("CLTD108"), confident, [("", 0.0)] * 7,
                         kinds(p3={"L": ("D", 0.9), "D": ("0", 0.01)}))[0] == list("CLTD108")
    assert fit_us_format(list("DH7X317"), confident, [("", 0.0)] * 7,
                         kinds(p2={"L": ("T", 0.4), "D": ("7", 0.6)}, p3={"L": ("X", 0.6), "D": ("8", 0.4)}))[0] \
        == list("DH7X317")
    # Readings that fit already, and other lengths, are left alone (0 may stand for a folded letter O).
    assert fit_us_format(list("5L0D951"), confident, [("", 0.0)] * 7, kinds())[0] == list("5L0D951")
    assert fit_us_format(list("CK0A1F"), [0.9] * 6, [("", 0.0)] * 6, kinds()[:6])[0] == list("CK0A1F")


def test_reading_rules_are_each_regions_data():
    """US 8-character plates (New York taxis, T######C) are kept whole; Brazil's two formats (old LLL9999,
    Mercosul LLL9L99) take a look-alike swap, with O a letter there."""
    from workbench.recognition.ocr import RULES_FILE, PlateReader, load_rules

    rules = load_rules()
    assert rules["us"].fits_length("T123456C") and (rules["us"].max_length == 0 or rules["us"].max_length >= 8)
    assert set(rules["br"].formats) == {"LLLDDDD", "LLLDLDD"} and not rules["br"].fold_o_to_zero
    reader = PlateReader()
    characters = reader._upper

    def one_hot(text: str, soft: dict[int, tuple[str, float]] | None = None):
        steps = []
        for position, char in enumerate(text):
            row = np.full(len(characters), 1e-6)
            if soft and position in soft:
                other, share = soft[position]
                row[characters.index(other)] = share
                row[characters.index(char)] = 1 - share
            else:
                row[characters.index(char)] = 1.0
            steps.extend([row, np.eye(len(characters))[0]])  # each character, then a blank
        return np.array(steps)

    assert reader.decode(one_hot("T123456C"), "us").text == "T123456C"
    # Mercosul ABC1D23 read as A8C1D23 (8/B), the network giving the letter B 30%: the format takes it.
    assert reader.decode(one_hot("A8C1D23", {1: ("B", 0.3)}), "br").text == "ABC1D23"
    assert reader.decode(one_hot("A8C1D23", {1: ("B", 0.3)}), "eu").text == "A8C1D23"
    assert reader.decode(one_hot("OPQ1234"), "br").text == "OPQ1234"  # O stays a letter in Brazil
    assert "max_length" in RULES_FILE.read_text()


def test_synthetic_plates_label_only_the_characters():
    """Dashes, spaces and dots are drawn but never part of the label the recognizer learns."""
    from workbench.recognition.synth import CHARACTERS, find_fonts, random_us_text, render_us_plate

    rng = np.random.default_rng(3)
    printed = [random_us_text(rng) for _ in range(400)]
    assert any(not text.isalnum() for text, _ in printed)
    assert all(set(chars) <= set(CHARACTERS) and chars == "".join(c for c in text if c.isalnum())
               for text, chars in printed)
    plate, chars = render_us_plate(rng, find_fonts(), "CK0-A1F")
    assert chars == "CK0A1F" and plate.shape == (240, 480, 3) and plate.std() > 10


def test_the_training_loop_runs_and_easyocr_loads_its_output(tmp_path):
    """A few steps on tiny data: the loop, the export, and EasyOCR loading it as a custom network."""
    rng = np.random.default_rng(0)
    crops = [(np.clip(rng.normal(128, 40, (60, 140)), 0, 255).astype(np.uint8), np.array([10, 10, 120, 40], np.float32),
              "7ABC123") for _ in range(4)]
    card = train(tmp_path, base_weights=models.base_ocr_dir() / "english_g2.pth", real_train=crops, real_val=crops,
                 minutes=5, max_steps=3, batch_size=4, workers=1, progress=False, log=lambda _: None)
    assert card["steps"] == 3 and set(card["validation"]) == {"exact", "within_one", "plates"}
    for suffix in (".pth", ".yaml", ".py"):
        assert (tmp_path / f"plate_recognizer{suffix}").is_file()
    reader = PlateReader(network_dir=tmp_path)
    assert isinstance(reader.read([crops[0][0]])[0].text, str)


def test_command_line_triage_writes_reads_and_crops(uploads, tmp_path):
    out = tmp_path / "reads.csv"
    done = subprocess.run([sys.executable, "-m", "workbench", "recognize", "one_car.jpg", "--lat", "33.77", "--lon",
                           "-118.19", "--start", "2026-10-20T14:05:00-07:00", "--out", str(out)],
                          capture_output=True, text=True, env={**__import__("os").environ,
                                                               "WORKBENCH_UPLOAD_DIR": str(uploads)}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "5KDN204" in out.read_text()
    assert len(list(tmp_path.glob("reads_000_*.jpg"))) == 1
    refused = subprocess.run([sys.executable, "-m", "workbench", "recognize", "/etc/hostname", "--lat", "33.77",
                              "--lon", "-118.19", "--start", "2026-10-20T14:05:00-07:00"], capture_output=True,
                             text=True, env={**__import__("os").environ, "WORKBENCH_UPLOAD_DIR": str(uploads)})
    assert refused.returncode == 2 and "outside the upload folder" in refused.stderr
    assert Path(uploads).is_dir()


SRT = """1
00:00:00,000 --> 00:00:01,000
<font size="28">FrameCnt: 1, DiffTime: 33ms
2026-10-20 14:05:00.000
[iso : 100] [latitude: 33.770000] [longitude: -118.200000] [rel_alt: 1.2 abs_alt: 20.1]</font>

2
00:00:04,000 --> 00:00:05,000
2026-10-20 14:05:04.000
[iso : 100] [latitude: 33.770000] [longitude: -118.196000] [rel_alt: 1.2 abs_alt: 20.1]</font>
"""
GPX = """<?xml version="1.0"?>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
<trkpt lat="33.7700" lon="-118.2000"><time>2026-10-20T14:04:30Z</time></trkpt>
<trkpt lat="33.7740" lon="-118.2000"><time>2026-10-20T14:04:40Z</time></trkpt>
</trkseg></trk></gpx>"""


def test_gps_sidecars_are_read_in_their_common_forms(tmp_path):
    from workbench.recognition.gps import read_sidecar

    (tmp_path / "drive.srt").write_text(SRT)
    track = read_sidecar(tmp_path / "drive.srt")
    assert list(track.keys) == [0.0, 4.0] and track.by_footage_time
    lat, lon, heading = track.position(2.0)
    assert (round(lat, 6), round(lon, 6)) == (33.77, -118.198) and round(heading) == 90  # driving east
    (tmp_path / "dashcam.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nN33.7700 W118.2000 42 km/h\n\n"
                                          "2\n00:00:01,000 --> 00:00:02,000\nN33.7710 W118.2000 42 km/h\n")
    assert read_sidecar(tmp_path / "dashcam.srt").lon[0] == -118.2
    (tmp_path / "route.gpx").write_text(GPX)
    gpx = read_sidecar(tmp_path / "route.gpx")
    lat, _, heading = gpx.position_for(0.0, datetime(2026, 10, 20, 14, 4, 35, tzinfo=UTC))
    assert round(lat, 4) == 33.772 and round(heading) == 0  # driving north
    (tmp_path / "empty.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nno position here\n")
    with pytest.raises(FootageError, match="no GPS positions"):
        read_sidecar(tmp_path / "empty.srt")
    (tmp_path / "broken.gpx").write_text("<gpx><trkpt lat='x'")
    with pytest.raises(FootageError, match="not a readable GPX"):
        read_sidecar(tmp_path / "broken.gpx")


def test_a_moving_camera_places_each_read_where_it_was(recognizer, uploads, analyst_case, superuser):
    # Its own file (a copy of another would be the same evidence, already registered, its reads already saved).
    write_clip(uploads / "drive.mp4", [PLAN.stolen_plates[0], "8FHZ512"], seconds=4, seed=5)
    (uploads / "drive.srt").write_text(SRT)  # found beside the video by its name
    reads = recognizer.run("drive.mp4", CAMERA, progress=False)
    assert reads.gps_source == "drive.srt" and len(reads) == 2
    frame = reads.to_dataframe()
    assert frame["lon"].iloc[0] < frame["lon"].iloc[1]  # the second car was seen further east
    review = Review(reads)
    review.confirm(0)
    review.confirm(1)
    saved = analyst_case.save_footage_reads(review)
    with superuser.cursor() as cursor:
        cursor.execute("SELECT ST_X(location::geometry) FROM alpr.reads WHERE read_id = ANY (%s) ORDER BY read_id",
                       (saved.read_ids,))
        stored = [round(row[0], 6) for row in cursor.fetchall()]
    assert stored == [round(v, 6) for v in frame["lon"]]


def test_a_gps_track_outside_the_upload_folder_is_refused(recognizer, uploads, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "track.srt").write_text(SRT)
    with pytest.raises(FootageError, match="outside the upload folder"):
        recognizer.run("two_cars.mp4", CAMERA, progress=False, gps=outside / "track.srt")
