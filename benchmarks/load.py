"""Bulk-load rate of reads into the partitioned, indexed store, as one JSON line.

Usage: python benchmarks/load.py [--reads 1000000]. Loads the sample city into a scratch database of
the private cluster (or WORKBENCH_ADMIN_DSN's server) and drops it afterwards. The figure is server
time until the reads are searchable: COPY into staged months, index builds, ATTACH, plates dictionary.
Baselines in the same run: COPY of 100,000 more reads through the indexed parent (months that already
hold data), and row-by-row INSERT of 2,000."""

from __future__ import annotations

import argparse
import json
import time

from _scratch import END, machine, scratch_database

from workbench import migrate
from workbench.bulkload import BulkLoader
from workbench.sample.generator import generate_reads


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=1_000_000)
    args = parser.parse_args()
    with scratch_database("alpr_workbench_bench_load", reads=args.reads, seed=1) as (_, url, report):
        extra = next(generate_reads(100_000, seed=3, end=END))
        direct = BulkLoader(lambda: migrate.connect_raw(url))
        direct.add(extra)
        direct_report = direct.finish()
        assert not direct_report.months_staged, "baseline must go through the indexed parent"
        sample = next(generate_reads(2000, seed=2, end=END))
        insert = migrate.sql_file("bench/insert_read.sql")
        connection = migrate.connect_raw(url)
        started = time.perf_counter()
        with connection, connection.cursor() as cursor:
            for row in sample.itertuples():
                cursor.execute(insert, (row.read_at, row.plate_raw, row.plate, row.plate_skeleton, row.state, row.lon,
                                        row.lat, row.camera_id, row.source, row.confidence))
        insert_rate = len(sample) / (time.perf_counter() - started)
        connection.close()
    print(json.dumps({"benchmark": "load", "reads": report.reads, "bulk_reads_per_s": round(report.reads_per_second),
                      "end_to_end_reads_per_s": round(report.reads / report.total_seconds),
                      "baseline_copy_through_indexes_reads_per_s": round(direct_report.reads / direct_report.copy_seconds),
                      "baseline_row_insert_reads_per_s": round(insert_rate), "target_reads_per_s": 100_000,
                      "machine": machine()}))


if __name__ == "__main__":
    main()
