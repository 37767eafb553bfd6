"""Retention run time, and dropping a month against deleting its rows, as one JSON line.

Usage: python benchmarks/retention.py [--reads 10000000]. Scratch database with the sample city under the
LAPD profile (dropped afterwards). Baseline in the same run: the same month's reads removed by DELETE
(on a copy of the month) against DETACH + DROP of the partition.
"""

from __future__ import annotations

import argparse
import json
import time

from _scratch import machine, scratch_database

import workbench
from workbench.migrate import connect_raw
from workbench.sample.load import DEMO_USERS

PASSWORD = {user.login: user.password for user in DEMO_USERS}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=10_000_000)
    args = parser.parse_args()
    with scratch_database("alpr_workbench_bench_retention", reads=args.reads) as (settings, url, report):
        owner = connect_raw(url)
        owner.autocommit = True
        with owner.cursor() as cursor:
            # Baseline: the fullest month's rows, copied twice into plain tables with the partition's indexes.
            cursor.execute("ANALYZE alpr.reads")
            cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                           "WHERE i.inhparent = 'alpr.reads'::regclass ORDER BY c.reltuples DESC LIMIT 1")
            month = cursor.fetchone()[0]
            cursor.execute(f"SELECT count(*) FROM alpr.{month}")
            month_rows = cursor.fetchone()[0]
            for copy in ("bench_delete", "bench_drop"):
                cursor.execute(f"CREATE TABLE alpr.{copy} (LIKE alpr.{month} INCLUDING ALL)")
                cursor.execute(f"INSERT INTO alpr.{copy} SELECT * FROM alpr.{month}")
            started = time.perf_counter()
            cursor.execute("DELETE FROM alpr.bench_delete")
            delete_s = time.perf_counter() - started
            started = time.perf_counter()
            cursor.execute("DROP TABLE alpr.bench_drop")
            drop_s = time.perf_counter() - started
            cursor.execute("DROP TABLE alpr.bench_delete")
        owner.close()
        admin = workbench.connect(user="admin_adams", password=PASSWORD["admin_adams"], settings=settings)
        started = time.perf_counter()
        admin.retention_run(dry_run=True)
        dry_s = time.perf_counter() - started
        started = time.perf_counter()
        run = admin.retention_run(dry_run=False)
        run_s = time.perf_counter() - started
        admin.close()
    print(json.dumps({
        "benchmark": "retention", "reads": report.reads, "profile": "lapd", "dry_run_s": round(dry_s, 2),
        "run_s": round(run_s, 2), "partitions_dropped": len(run["partitions_dropped"]),
        "rows_in_dropped_partitions": run["rows_in_dropped_partitions"], "rows_deleted": run["rows_deleted"],
        "logically_deleted": run["logically_deleted"], "kept_under_legal_hold": run["kept_under_legal_hold"],
        "one_month": {"rows": month_rows, "drop_partition_ms": round(drop_s * 1000, 1),
                      "delete_rows_ms": round(delete_s * 1000, 1)},
        "machine": machine()}))


if __name__ == "__main__":
    main()
