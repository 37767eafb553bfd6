"""Bulk-load rate of reads into the partitioned, indexed store, as one JSON line.

Usage: python benchmarks/load.py [--reads 1000000]. Loads the sample city into a scratch database of
the private cluster (or WORKBENCH_ADMIN_DSN's server) and drops it afterwards. The figure is server
time until the reads are searchable: COPY into staged months, index builds, ATTACH, plates dictionary.
Baselines in the same run: COPY of 100,000 more reads through the indexed parent (months that already
hold data), and row-by-row INSERT of 2,000."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime

from workbench import cluster, db, migrate
from workbench.bulkload import BulkLoader
from workbench.policy import load_profile
from workbench.sample.generator import generate_reads
from workbench.sample.load import load_sample
from workbench.settings import load_settings

SCRATCH = "alpr_workbench_bench_load"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=1_000_000)
    args = parser.parse_args()
    settings = load_settings({"database": SCRATCH})
    if settings.embedded:
        cluster.start(load_settings())
    url = db.admin_url(settings)
    admin = migrate.connect_raw(url.set(database="postgres"))
    admin.autocommit = True
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
    migrate.ensure_database(url)
    migrate.apply_migrations(url)
    migrate.store_profile(url, load_profile("lapd"))
    end = datetime(2026, 11, 1, tzinfo=UTC)
    report = load_sample(url, load_profile("lapd"), reads=args.reads, seed=1, end=end, progress=False)
    extra = next(generate_reads(100_000, seed=3, end=end))
    direct = BulkLoader(lambda: migrate.connect_raw(url))
    direct.add(extra)
    direct_report = direct.finish()
    assert not direct_report.months_staged, "baseline must go through the indexed parent"
    sample = next(generate_reads(2000, seed=2, end=end))
    connection = migrate.connect_raw(url)
    started = time.perf_counter()
    with connection, connection.cursor() as cursor:
        for row in sample.itertuples():
            cursor.execute("INSERT INTO alpr.reads (read_at, plate_raw, plate, plate_skeleton, state, location, "
                           "camera_id, source, confidence) VALUES (%s, %s, %s, %s, %s, "
                           "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, %s, %s)",
                           (row.read_at, row.plate_raw, row.plate, row.plate_skeleton, row.state, row.lon, row.lat,
                            row.camera_id, row.source, row.confidence))
    insert_rate = len(sample) / (time.perf_counter() - started)
    connection.close()
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
    print(json.dumps({"benchmark": "load", "reads": report.reads, "bulk_reads_per_s": round(report.reads_per_second),
                      "end_to_end_reads_per_s": round(report.reads / report.total_seconds),
                      "baseline_copy_through_indexes_reads_per_s": round(direct_report.reads / direct_report.copy_seconds),
                      "baseline_row_insert_reads_per_s": round(insert_rate), "target_reads_per_s": 100_000,
                      "machine": f"{platform.machine()} {os.cpu_count()} cores"}))


if __name__ == "__main__":
    main()
