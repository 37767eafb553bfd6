"""File import rate of an agency's reads, as one JSON line.

Usage: python benchmarks/imports.py [--reads 1000000]. Writes one export of ``--reads`` reads (200 registered
cameras, the last 300 days) in the workbench CSV layout and the same reads as OpenALPR agent ``alpr_group``
JSON Lines, and imports each into its own scratch database as an administrator would
(``Workbench.import_reads``: read, shape, COPY to staging, one audited call that validates, keys, stores,
indexes and matches hot lists). Figures are end to end, from the file to committed, searchable reads.
Baseline in the same run: today's COPY path (workbench.bulkload, what the sample city loads with) on the
same reads, which does none of the checks."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from _scratch import machine, scratch_database

from workbench import connect, migrate
from workbench.bulkload import BulkLoader
from workbench.policy import load_profile

CAMERAS = 200


def synthetic_reads(count: int, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    west, south, east, north = load_profile("lapd").data["agency"]["jurisdiction_bbox"]
    camera_lat = rng.uniform(south + 0.01, north - 0.01, CAMERAS)
    camera_lon = rng.uniform(west + 0.01, east - 0.01, CAMERAS)
    camera = rng.integers(0, CAMERAS, count)
    letters = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"))
    # Vehicles pass the cameras again: the reads are of a pool of a fifth as many plates.
    pool_size = max(1, count // 5)
    pool = np.char.add(np.char.add(rng.integers(1, 10, pool_size).astype(str),
                                   np.char.add(np.char.add(letters[rng.integers(0, 23, pool_size)],
                                                           letters[rng.integers(0, 23, pool_size)]),
                                               letters[rng.integers(0, 23, pool_size)])),
                       rng.integers(100, 1000, pool_size).astype(str))
    plates = pool[rng.integers(0, pool_size, count)]
    now = datetime.now(UTC)
    seconds = rng.uniform(3600, 300 * 86400, count)
    return pd.DataFrame({
        "plate": plates, "read_at": pd.to_datetime(now, utc=True) - pd.to_timedelta(seconds, unit="s"),
        "camera_id": [f"bench-{c:03d}" for c in camera], "lat": camera_lat[camera], "lon": camera_lon[camera],
        "confidence": rng.uniform(0.6, 1.0, count).round(3), "state": "CA",
        "vendor_read_id": [f"v{n:08d}" for n in range(count)],
    }), camera_lat, camera_lon


def register(admin, source: str, camera_lat, camera_lon) -> None:
    admin.register_source(source, "fixed")
    for number, (lat, lon) in enumerate(zip(camera_lat, camera_lon, strict=True)):
        admin.register_camera(source, f"bench-{number:03d}", float(lat), float(lon))


def write_json(frame: pd.DataFrame, path: Path) -> None:
    epochs = (frame["read_at"].astype("int64") // 1_000_000).to_numpy()
    with path.open("w") as handle:
        for plate, epoch, camera, confidence, vendor in zip(frame["plate"], epochs, frame["camera_id"],
                                                            frame["confidence"], frame["vendor_read_id"], strict=True):
            handle.write(json.dumps({"version": 2, "data_type": "alpr_group", "epoch_start": int(epoch),
                                     "epoch_end": int(epoch) + 800, "camera_id": camera, "best_plate_number": plate,
                                     "best_confidence": round(float(confidence) * 100, 1), "best_region": "us-ca",
                                     "best_uuid": vendor}) + "\n")


def timed_import(name: str, path: Path, fmt: str, camera_lat, camera_lon) -> dict:
    with scratch_database(name, reads=2000, seed=9) as (settings, url, _):
        admin = connect(user="admin_adams", password="adams-demo-2026", settings=settings)
        register(admin, "bench", camera_lat, camera_lon)
        started = time.perf_counter()
        report = admin.import_reads(path, "fixed", source_name="bench", fmt=fmt, progress=False)
        seconds = time.perf_counter() - started
        admin.close()
    return {"reads": report.accepted, "rejected": report.rejected, "seconds": round(seconds, 1),
            "reads_per_s": round(report.accepted / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=1_000_000)
    args = parser.parse_args()
    frame, camera_lat, camera_lon = synthetic_reads(args.reads)
    with tempfile.TemporaryDirectory() as folder:
        csv_path, json_path = Path(folder) / "export.csv", Path(folder) / "agent.jsonl"
        frame.assign(read_at=frame["read_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")).to_csv(csv_path, index=False)
        write_json(frame, json_path)
        csv_result = timed_import("alpr_workbench_bench_import_csv", csv_path, "workbench", camera_lat, camera_lon)
        json_result = timed_import("alpr_workbench_bench_import_json", json_path, "openalpr", camera_lat, camera_lon)
        sizes = {"csv_mb": round(csv_path.stat().st_size / 1e6), "json_mb": round(json_path.stat().st_size / 1e6)}
    with scratch_database("alpr_workbench_bench_import_copy", reads=None) as (_, url, _):
        connection = migrate.connect_raw(url)
        with connection, connection.cursor() as cursor:
            for number, (lat, lon) in enumerate(zip(camera_lat, camera_lon, strict=True)):
                cursor.execute("INSERT INTO alpr.cameras (camera_id, name, kind, location) VALUES "
                               "(%s, %s, 'fixed', ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)",
                               (f"bench-{number:03d}", f"bench {number}", float(lon), float(lat)))
        connection.close()
        loader = BulkLoader(lambda: migrate.connect_raw(url))
        shaped = frame.rename(columns={"plate": "plate_raw"}).assign(
            plate=frame["plate"], plate_skeleton=frame["plate"], source="fixed", vehicle_make=None, vehicle_color=None)
        started = time.perf_counter()
        loader.add(shaped)
        loader.finish()
        baseline = time.perf_counter() - started
    print(json.dumps({"benchmark": "imports", "reads": args.reads, "csv": csv_result, "openalpr_json": json_result,
                      **sizes, "baseline_bulk_copy_reads_per_s": round(args.reads / baseline),
                      "target_csv_reads_per_s": 100_000, "machine": machine()}))


if __name__ == "__main__":
    main()
