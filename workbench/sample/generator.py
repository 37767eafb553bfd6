"""Deterministic generator of a realistic read store for the sample city, with planted scenarios.

Same seed and same end date give the same reads. Reads come in chunks (numpy), so 10 million fit in
memory a chunk at a time. Planted scenarios are described in sample_data/README.md.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from ..plates import normalize_plate, skeleton
from . import city

LETTERS = np.array(list(string.ascii_uppercase.replace("I", "").replace("O", "").replace("Q", "")))
OTHER_STATES = ("AZ", "NV", "TX", "OR", "WA")
MAKES = ("Toyota", "Honda", "Ford", "Chevrolet", "Nissan", "Tesla", "Hyundai", "Kia", "BMW", "Jeep")
COLORS = ("white", "black", "silver", "gray", "blue", "red", "green")
# Hour-of-day traffic with morning and evening peaks; weekends flatter.
HOURLY = np.array([3, 2, 1.5, 1.5, 2, 4, 8, 12, 12, 9, 8, 8, 9, 9, 9, 10, 12, 13, 11, 8, 6, 5, 4, 3], dtype=float)
COLUMNS = ["read_at", "plate_raw", "plate", "plate_skeleton", "state", "lat", "lon", "camera_id", "source",
           "confidence", "vehicle_make", "vehicle_color"]


@dataclass(frozen=True)
class Scene:
    label: str
    lat: float
    lon: float
    at: datetime


@dataclass
class Scenarios:
    """What the generator planted, for notebooks, tests and sample_data/README.md."""

    suspect_plate: str
    witness_pattern: str
    decoy_plates: list[str]
    lookalike_misread: str
    scenes: list[Scene]
    companions: tuple[str, str]
    stolen_plates: list[str]
    held_plate: str
    held_window: tuple[datetime, datetime]
    # Passes the cameras of two of the companions' trips at the same hour every day, so it is read beside
    # them by chance on those two days: the associate analysis' decoy, explained by its own traffic.
    commuter_plate: str = "9VAN7X2"
    case_titles: dict[str, str] = field(default_factory=dict)


def _end_of(end: datetime | None) -> datetime:
    if end is None:
        now = datetime.now(UTC)
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    return end if end.tzinfo else end.replace(tzinfo=UTC)


def scenarios(end: datetime | None = None) -> Scenarios:
    end = _end_of(end)

    def scene(label: str, ew: str, ns: str, days: int, hour: int, minute: int) -> Scene:
        lat, lon = city.intersection(ew, ns)
        return Scene(label, lat, lon, end - timedelta(days=days) + timedelta(hours=hour, minutes=minute))

    return Scenarios(
        suspect_plate="7WXB124",
        witness_pattern="7??B12?",
        decoy_plates=["7KRB126", "7ADB129", "7MNB120"],
        lookalike_misread="7WX8124",
        scenes=[scene("Shooting, Anaheim St & Orange Ave", "Anaheim St", "Orange Ave", 40, 22, 15),
                scene("Armed robbery, Willow St & Cherry Ave", "Willow St", "Cherry Ave", 26, 1, 40),
                scene("Shooting, 7th St & Redondo Ave", "7th St", "Redondo Ave", 9, 23, 5)],
        companions=("8CPL402", "5HNT773"),
        stolen_plates=["6TRK551", "4MBX209"],
        held_plate="3LGH880",
        held_window=(end - timedelta(days=1100), end - timedelta(days=1090)),
    )


def _plates(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """California 1ABC234 plates mostly, some other states; unique."""
    digit1 = rng.integers(1, 10, count).astype(str)
    letters = LETTERS[rng.integers(0, len(LETTERS), (count, 3))]
    digits = rng.integers(0, 1000, count)
    california = np.char.add(np.char.add(digit1, np.char.add(np.char.add(letters[:, 0], letters[:, 1]), letters[:, 2])),
                             np.char.zfill(digits.astype(str), 3))
    other_letters = LETTERS[rng.integers(0, len(LETTERS), (count, 3))]
    other = np.char.add(np.char.add(np.char.add(other_letters[:, 0], other_letters[:, 1]), other_letters[:, 2]),
                        np.char.zfill(rng.integers(0, 10000, count).astype(str), 4))
    is_other = rng.random(count) < 0.12
    plates = np.where(is_other, other, california)
    states = np.where(is_other, np.array(OTHER_STATES)[rng.integers(0, len(OTHER_STATES), count)], "CA")
    plates, first = np.unique(plates, return_index=True)
    return plates, states[first]


def _day_offsets(rng: np.random.Generator, count: int, history_days: int) -> np.ndarray:
    """Most reads recent, a tail back through the whole history (older than every retention period)."""
    recent = min(730, history_days)
    bucket = rng.random(count)
    days = np.where(bucket < 0.85, rng.integers(0, recent, count),
                    np.where(bucket < 0.95, rng.integers(0, max(1, min(1825, history_days)), count),
                             rng.integers(0, history_days, count)))
    return days


def generate_reads(total: int, seed: int = 7, end: datetime | None = None, history_days: int = 2200,
                   chunk_size: int = 500_000) -> Iterator[pd.DataFrame]:
    """Background traffic in chunks; planted scenario reads come from :func:`planted_reads`."""
    end = _end_of(end)
    rng = np.random.default_rng(seed)
    cams = [c for c in city.cameras() if c.kind == "fixed"]
    cam_ids = np.array([c.camera_id for c in cams])
    cam_lat = np.array([c.lat for c in cams])
    cam_lon = np.array([c.lon for c in cams])
    vehicles = max(3000, total // 40)
    plates, states = _plates(rng, int(vehicles * 1.05))
    reserved = set(_reserved_plates(end))
    keep = np.array([p not in reserved for p in plates])
    plates, states = plates[keep], states[keep]
    vehicles = len(plates)
    activity = rng.lognormal(0, 1.0, vehicles)
    activity /= activity.sum()
    home = rng.integers(0, len(cams), (vehicles, 4))
    makes = np.array(MAKES)[rng.integers(0, len(MAKES), vehicles)]
    colors = np.array(COLORS)[rng.integers(0, len(COLORS), vehicles)]
    hourly = HOURLY / HOURLY.sum()
    segments = city.street_segments()
    produced = 0
    while produced < total:
        n = min(chunk_size, total - produced)
        produced += n
        vehicle = rng.choice(vehicles, n, p=activity)
        mobile = rng.random(n) < 0.10
        camera = np.where(rng.random(n) < 0.8, home[vehicle, rng.integers(0, 4, n)], rng.integers(0, len(cams), n))
        lat = cam_lat[camera] + rng.normal(0, 0.00008, n)
        lon = cam_lon[camera] + rng.normal(0, 0.00008, n)
        segment = rng.integers(0, len(segments), n)
        along = rng.random(n)
        seg_a = np.array([segments[s][1] for s in range(len(segments))])
        seg_b = np.array([segments[s][2] for s in range(len(segments))])
        lat = np.where(mobile, seg_a[segment, 0] + along * (seg_b[segment, 0] - seg_a[segment, 0]), lat)
        lon = np.where(mobile, seg_a[segment, 1] + along * (seg_b[segment, 1] - seg_a[segment, 1]), lon)
        camera_id = np.where(mobile, np.array(city.MOBILE_UNITS)[rng.integers(0, len(city.MOBILE_UNITS), n)],
                             cam_ids[camera])
        days = _day_offsets(rng, n, history_days)
        hours = rng.choice(24, n, p=hourly)
        seconds = rng.integers(0, 3600, n)
        read_at = (pd.Timestamp(end) - pd.to_timedelta(days + 1, unit="D")
                   + pd.to_timedelta(hours * 3600 + seconds, unit="s"))
        plate = plates[vehicle]
        raw = plate.copy()
        misread = np.flatnonzero(rng.random(n) < 0.01)
        for index in misread:  # an OCR look-alike swap in ~1% of reads, as real systems make
            raw[index] = _lookalike_swap(raw[index], rng)
        confidence = np.round(rng.beta(8, 1.5, n), 3)
        known = rng.random(n) < 0.6
        frame = pd.DataFrame({
            "read_at": read_at, "plate_raw": raw, "plate": raw, "plate_skeleton": [skeleton(p) for p in raw],
            "state": states[vehicle], "lat": lat, "lon": lon, "camera_id": camera_id,
            "source": np.where(mobile, "mobile", np.where(rng.random(n) < 0.05, "commercial", "fixed")),
            "confidence": confidence,
            "vehicle_make": np.where(known, makes[vehicle], None), "vehicle_color": np.where(known, colors[vehicle], None),
        })
        yield frame[COLUMNS]


_SWAPS = {"B": "8", "8": "B", "0": "O", "5": "S", "S": "5", "2": "Z", "Z": "2", "1": "I", "6": "G", "G": "6"}


def _lookalike_swap(plate: str, rng: np.random.Generator) -> str:
    candidates = [i for i, ch in enumerate(plate) if ch in _SWAPS]
    if not candidates:
        return plate
    i = candidates[int(rng.integers(0, len(candidates)))]
    return plate[:i] + _SWAPS[plate[i]] + plate[i + 1:]


def _reserved_plates(end: datetime) -> list[str]:
    s = scenarios(end)
    return [s.suspect_plate, *s.decoy_plates, s.lookalike_misread, *s.companions, *s.stolen_plates, s.held_plate,
            s.commuter_plate]


def planted_reads(seed: int = 7, end: datetime | None = None) -> pd.DataFrame:
    """The reads that make the scenarios: suspect near three scenes, companions, stolen plates, a held plate."""
    end = _end_of(end)
    plan = scenarios(end)
    rng = np.random.default_rng(seed + 1)
    cams = [c for c in city.cameras() if c.kind == "fixed"]
    rows: list[dict] = []

    def nearest_camera(lat: float, lon: float) -> city.Camera:
        return min(cams, key=lambda c: (c.lat - lat) ** 2 + (c.lon - lon) ** 2)

    def add(plate: str, at: datetime, cam: city.Camera, raw: str | None = None, state: str = "CA",
            make: str | None = "Honda", color: str | None = "gray") -> None:
        raw = raw or plate
        rows.append({"read_at": pd.Timestamp(at), "plate_raw": raw, "plate": normalize_plate(raw),
                     "plate_skeleton": skeleton(normalize_plate(raw)), "state": state,
                     "lat": cam.lat + rng.normal(0, 0.00005), "lon": cam.lon + rng.normal(0, 0.00005),
                     "camera_id": cam.camera_id, "source": "fixed", "confidence": round(float(rng.uniform(0.8, 0.99)), 3),
                     "vehicle_make": make, "vehicle_color": color})

    for number, scene in enumerate(plan.scenes):
        cam = nearest_camera(scene.lat, scene.lon)
        add(plan.suspect_plate, scene.at - timedelta(minutes=12 + 3 * number), cam)
        add(plan.suspect_plate, scene.at + timedelta(minutes=6 + number), cam)
        # Decoys fit the witness's fragment but pass only one scene.
        add(plan.decoy_plates[number], scene.at - timedelta(minutes=25), cam, make="Ford", color="white")
        for _ in range(25):  # ordinary traffic at the scene
            plate = f"{rng.integers(1, 10)}{''.join(rng.choice(LETTERS, 3))}{rng.integers(0, 1000):03d}"
            add(plate, scene.at + timedelta(minutes=float(rng.uniform(-110, 110))), cam, make=None, color=None)
    # The suspect's routine, and one OCR misread (B read as 8) that only look-alike search finds.
    for day in range(2, 90, 3):
        cam = cams[int(rng.integers(0, len(cams)))]
        add(plan.suspect_plate, end - timedelta(days=day, hours=float(rng.uniform(0, 20))), cam)
    add(plan.suspect_plate, end - timedelta(days=33, hours=4), cams[5], raw=plan.lookalike_misread)
    # Two vehicles travelling together: same cameras, seconds apart, 25 times.
    trips = []
    for trip in range(25):
        cam = cams[int(rng.integers(0, len(cams)))]
        at = end - timedelta(days=3 + trip * 4, hours=float(rng.uniform(8, 20)))
        add(plan.companions[0], at, cam, make="Chevrolet", color="black")
        add(plan.companions[1], at + timedelta(seconds=float(rng.uniform(5, 40))), cam, make="Nissan", color="silver")
        trips.append((cam, at))
    # Stolen vehicles on the hot list, seen recently.
    for plate in plan.stolen_plates:
        for day in (1, 2, 5, 8):
            add(plate, end - timedelta(days=day, hours=float(rng.uniform(0, 20))), cams[int(rng.integers(0, len(cams)))])
    # Reads of a vehicle in a case under legal hold, older than every logical-deletion period.
    start, stop = plan.held_window
    for i in range(8):
        add(plan.held_plate, start + (stop - start) * (i / 8), cams[int(rng.integers(0, len(cams)))])
    # The commuter: every day of the last 100 at the cameras of two of the companions' first trips (at two
    # cameras), at those trips' hours of day; on those two days, within a minute of the first companion
    # (chance, not company).
    commute = np.random.default_rng(seed + 2)  # its own generator: the plants above stay as they were
    second = next(trip for trip in trips[1:] if trip[0].camera_id != trips[0][0].camera_id)
    for cam, at in (trips[0], second):
        hour_of_day = at - at.replace(hour=0, minute=0, second=0, microsecond=0)
        trip_day = (end - at).days
        for day in range(1, 101):
            when = (end - timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0) + hour_of_day
            offset = commute.uniform(-25, 25) * 60 if abs((end - when).days - trip_day) > 0 else commute.uniform(-50, 50)
            add(plan.commuter_plate, when + timedelta(seconds=float(offset)), cam, make="Toyota", color="white")
    return pd.DataFrame(rows)[COLUMNS]
