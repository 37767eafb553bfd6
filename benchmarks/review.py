"""Supervisor review at scale: the review queue, the proportionality view and the usage report over a
year of audit records, as one JSON line.

Usage: python benchmarks/review.py [--records 1000000]. Scratch database (dropped afterwards) under the
LAPD profile with a synthetic audit history (sql/bench/synthetic_audit_history.sql); each call is timed
end to end through the client as a supervisor, three runs, median reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import timedelta

from _scratch import END, machine, scratch_database

import workbench
from workbench.migrate import connect_raw, sql_file
from workbench.sample.load import DEMO_USERS

PASSWORD = {user.login: user.password for user in DEMO_USERS}


def timed(call, runs: int = 3) -> dict:
    seconds, rows = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
        rows = len(result)
    return {"median_ms": round(statistics.median(seconds) * 1000, 1), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    with scratch_database("alpr_workbench_bench_review", reads=20_000) as (settings, url, _):
        owner = connect_raw(url)
        with owner, owner.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute("SET LOCAL ROLE alpr_owner")
            cursor.execute(sql_file("bench/synthetic_audit_history.sql"), {"records": args.records, "end": END})
            cursor.execute("RESET ROLE")
            written = time.perf_counter() - started
        owner.autocommit = True
        with owner.cursor() as cursor:
            cursor.execute("ANALYZE alpr.audit_log")
        owner.close()
        supervisor = workbench.connect(user="supervisor_sato", password=PASSWORD["supervisor_sato"], settings=settings)
        figures = {}
        for days in (30, 182):
            start = END - timedelta(days=days)
            figures[f"review_queue_{days}d"] = timed(lambda start=start: supervisor.review_queue(start, END))
            figures[f"proportionality_{days}d"] = timed(lambda start=start: supervisor.proportionality(start, END))
        figures["usage_report_365d"] = timed(lambda: supervisor.usage_report(END - timedelta(days=365), END), runs=1)
        figures["audit_log_30d_one_user"] = timed(
            lambda: supervisor.audit_log(END - timedelta(days=30), END, user="analyst_avery"))
        supervisor.close()
    print(json.dumps({"benchmark": "review", "audit_records": args.records, "history_written_s": round(written, 1),
                      **figures, "machine": machine()}))


if __name__ == "__main__":
    main()
