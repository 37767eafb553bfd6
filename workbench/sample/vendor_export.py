"""A small vendor export for the administration notebook: a generic fixed-camera CSV (the shipped mapping's
layout) of two cameras' reads, with the faults real exports have (a time that does not parse, a read
outside the jurisdiction, an empty plate, a camera nobody registered, the same read twice). Deterministic:
the same file each time for the same sample, so importing it again adds nothing."""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

EXPORT_COLUMNS = ("ReadID", "Plate", "State", "CaptureTime", "CameraName", "Latitude", "Longitude", "Direction",
                  "Confidence", "Make", "Color", "PlateImage")
MAKES = ("Toyota", "Honda", "Ford", "Chevrolet", "Nissan", "Tesla")
COLORS = ("White", "Black", "Silver", "Gray", "Blue", "Red")


def demo_cameras(center: tuple[float, float]) -> list[dict]:
    lat, lon = center
    return [{"camera_id": "VX-ELM-N", "name": "Elm Ave northbound (vendor X)", "lat": lat + 0.004, "lon": lon - 0.003,
             "heading_deg": 0.0},
            {"camera_id": "VX-MAIN-E", "name": "Main St eastbound (vendor X)", "lat": lat - 0.002, "lon": lon + 0.005,
             "heading_deg": 90.0}]


def write_generic_export(path: Path, end: datetime, center: tuple[float, float], time_zone: str,
                         reads: int = 24, seed: int = 5) -> Path:
    """Write the export to ``path``; its times are local (the mapping names the zone), its confidence 0-100."""
    rng = random.Random(seed)
    zone = ZoneInfo(time_zone)
    cameras = demo_cameras(center)
    rows = []
    for number in range(reads):
        camera = cameras[number % 2]
        when = (end - timedelta(hours=6 + number * 1.7)).astimezone(zone)
        plate = f"{rng.randint(1, 9)}{''.join(rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ') for _ in range(3))}" \
                f"{rng.randint(100, 999)}"
        rows.append({"ReadID": f"VX-{seed}-{number:05d}", "Plate": plate, "State": "CA",
                     "CaptureTime": f"{when:%m/%d/%Y %H:%M:%S}", "CameraName": camera["camera_id"],
                     "Latitude": f"{camera['lat']:.6f}", "Longitude": f"{camera['lon']:.6f}",
                     "Direction": f"{camera['heading_deg']:.0f}", "Confidence": str(rng.randint(72, 99)),
                     "Make": rng.choice(MAKES), "Color": rng.choice(COLORS), "PlateImage": ""})
    faults = [dict(rows[0], ReadID=f"VX-{seed}-90001", CaptureTime="13/45/2026 25:61:00"),
              dict(rows[1], ReadID=f"VX-{seed}-90002", Latitude="40.712800", Longitude="-74.006000"),
              dict(rows[2], ReadID=f"VX-{seed}-90003", Plate=""),
              dict(rows[3], ReadID=f"VX-{seed}-90004", CameraName="VX-UNKNOWN-9"),
              dict(rows[4])]  # the same read exported twice
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows + faults)
    return path
