"""Cost of the audited access path, as one JSON line.

Usage: python benchmarks/audit.py [--calls 400] [--seconds 10]. Runs on a scratch database with a
300,000-read sample city (dropped afterwards).

- ``audited_path_ms``: the analyst's ``api.plate_history`` (access-session check, the query, the audit
  row on the hash chain, the parked result), commit, then ``api.fetch_result``, commit.
- ``baseline_direct_query_ms``: the same rows read by the table owner with one plain SELECT, no guard.
- ``audit_overhead_ms`` = audited path minus baseline (the target: < 2 ms median).
- ``client_call_ms``: the whole ``CaseAccess.plate_history`` from Python, GeoDataFrame included.
- ``audit_write_ms``: one audit record alone (chain-head lock, sha256, insert, commit).
- ``calls_per_s``: audited calls per second with 1, 4 and 16 analysts at once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from datetime import timedelta

import psycopg2
from _scratch import END, machine, scratch_database

import workbench
from workbench.migrate import connect_raw, sql_file
from workbench.policy import load_profile
from workbench.sample.generator import scenarios
from workbench.sample.load import DEMO_USERS, sample_cases

PASSWORD = {user.login: user.password for user in DEMO_USERS}
PLATE = scenarios(END).suspect_plate
WINDOW = (END - timedelta(days=90), END)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median": round(statistics.median(ordered), 3), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 3)}


def timed(action, calls: int) -> list[float]:
    for _ in range(10):  # warm caches and plans
        action()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def throughput(settings, case_number: str, clients: int, seconds: float) -> float:
    opener = workbench.connect(user="analyst_avery", password=PASSWORD["analyst_avery"], settings=settings)
    grant = opener.open_case(case_number, "criminal_investigation", "Benchmark of the audited access path").grant
    counts = [0] * clients
    start_line = threading.Barrier(clients + 1)
    deadline = [0.0]

    def analyst(slot: int) -> None:
        own = workbench.connect(user="analyst_avery", password=PASSWORD["analyst_avery"], settings=settings)
        access = workbench.access.CaseAccess(own, grant)
        access.plate_history(PLATE, *WINDOW)
        start_line.wait()
        while time.perf_counter() < deadline[0]:
            access.plate_history(PLATE, *WINDOW)
            counts[slot] += 1
        own.close()

    threads = [threading.Thread(target=analyst, args=(slot,)) for slot in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    start_line.wait()
    for thread in threads:
        thread.join()
    opener.close()
    return round(sum(counts) / seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with scratch_database("alpr_workbench_bench_audit", reads=300_000) as (settings, url, _):
        case_number = list(sample_cases(load_profile("lapd"), END))[0]
        wb = workbench.connect(user="analyst_avery", password=PASSWORD["analyst_avery"], settings=settings)
        access = wb.open_case(case_number, "criminal_investigation", "Benchmark of the audited access path")
        expected = len(access.plate_history(PLATE, *WINDOW).reads)
        client = timed(lambda: access.plate_history(PLATE, *WINDOW), args.calls)
        analyst = psycopg2.connect(host=url.host, port=url.port, dbname=url.database, user="analyst_avery",
                                   password=PASSWORD["analyst_avery"])
        call_sql, fetch_sql = sql_file("bench/plate_history_audited.sql").split(";\n", 1)

        def audited_path() -> None:
            with analyst, analyst.cursor() as cursor:
                cursor.execute(call_sql, {"access_id": access.grant.access_id, **params})
                result_id = cursor.fetchone()[0]
            with analyst, analyst.cursor() as cursor:
                cursor.execute(fetch_sql, {"result_id": result_id})
                assert len(cursor.fetchone()[0]) == expected

        params = {"plate": PLATE, "start": WINDOW[0], "end": WINDOW[1]}
        audited = timed(audited_path, args.calls)
        analyst.close()
        owner = connect_raw(url)
        direct_sql = sql_file("bench/plate_history_direct.sql")

        def direct() -> None:
            with owner, owner.cursor() as cursor:
                cursor.execute(direct_sql, params)
                assert len(cursor.fetchone()[0]) == expected

        baseline = timed(direct, args.calls)
        write_sql = sql_file("bench/audit_write.sql")

        def audit_write() -> None:
            with owner, owner.cursor() as cursor:
                cursor.execute(write_sql, {"case_number": case_number})

        writes = timed(audit_write, args.calls)
        owner.close()
        wb.close()
        rates = {str(clients): throughput(settings, case_number, clients, args.seconds) for clients in (1, 4, 16)}
        checker = workbench.connect(user="supervisor_sato", password=PASSWORD["supervisor_sato"], settings=settings)
        chain = checker.verify_audit_chain()
        checker.close()
    audited_p, baseline_p = percentiles(audited), percentiles(baseline)
    print(json.dumps({
        "benchmark": "audit", "rows_per_call": expected, "calls": args.calls,
        "audited_path_ms": audited_p, "baseline_direct_query_ms": baseline_p,
        "audit_overhead_ms": {k: round(audited_p[k] - baseline_p[k], 3) for k in audited_p},
        "audit_write_ms": percentiles(writes), "client_call_ms": percentiles(client), "calls_per_s": rates,
        "audit_chain_ok": chain.ok, "records_checked": chain.records_checked,
        "target_overhead_median_ms": 2.0, "machine": machine()}))


if __name__ == "__main__":
    main()
