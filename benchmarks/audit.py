"""Cost of the audited access path, as one JSON line.

Usage: python benchmarks/audit.py [--calls 400] [--seconds 10]. Runs on a scratch database with a
300,000-read sample city (dropped afterwards).

- ``audited_path_ms``: the analyst's ``api.plate_history`` (access-session check, the query, the budget
  charge, the audit row, the parked answer), commit, then ``api.fetch_result``, commit; pgAudit writing
  both statements to the server log. ``audited_path_without_pgaudit_ms``: the same with pgAudit off for
  that login (its share of the cost).
- ``baseline_direct_query_ms``: the same rows read by the table owner with one plain SELECT, no guard.
- ``audit_overhead_ms`` = audited path minus baseline (the target: < 2 ms median).
- ``client_call_ms``: the whole ``CaseAccess.plate_history`` from Python, GeoDataFrame included.
- ``audit_write_ms``: one audit record alone (sequence, insert, commit; the chainer links it later).
- ``calls_per_s``: audited calls per second with 1, 4 and 16 analysts at once, a login each.
- ``stalled``: 16 analysts, each with a login of their own, making audited calls for ``--stall`` seconds
  (each one call every half second) while a 17th holds a transaction open after a denied call (the attack that stalled every login when the
  chain was ordered by a lock); p50/p99/max of their calls, beside the same 16 with nobody holding one
  (baseline, same run); then every audit row is linked and the chain verifies.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from datetime import timedelta

import psycopg2
from _scratch import END, machine, scratch_database

import workbench
from workbench import db
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


def throughput(settings, case_number: str, logins: list[tuple[str, str]], seconds: float) -> float:
    """Audited calls per second, one thread per login (each login may hold at most its profile's connections)."""
    counts = [0] * len(logins)
    start_line = threading.Barrier(len(logins) + 1)
    deadline = [0.0]

    def analyst(slot: int, login: str, password: str) -> None:
        own = workbench.connect(user=login, password=password, settings=settings)
        access = own.open_case(case_number, "criminal_investigation", "Benchmark of the audited access path")
        access.plate_history(PLATE, *WINDOW)
        start_line.wait()
        while time.perf_counter() < deadline[0]:
            access.plate_history(PLATE, *WINDOW)
            counts[slot] += 1
        own.close()

    together([threading.Thread(target=analyst, args=(slot, *login)) for slot, login in enumerate(logins)],
             start_line, deadline, seconds)
    return round(sum(counts) / seconds, 1)


def together(threads: list[threading.Thread], start_line: threading.Barrier, deadline: list[float],
             seconds: float) -> None:
    """Start the analysts' threads, let them all begin at once for ``seconds``, wait for every one."""
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    start_line.wait()
    for thread in threads:
        thread.join()


def analysts(settings, case_number: str, count: int) -> list[tuple[str, str]]:
    """``count`` data users of their own (created, authorized, trained, assigned through the api)."""
    admin = workbench.connect(user="admin_adams", password=PASSWORD["admin_adams"], settings=settings)
    supervisor = workbench.connect(user="supervisor_sato", password=PASSWORD["supervisor_sato"], settings=settings)
    trainer = workbench.connect(user="trainer_tran", password=PASSWORD["trainer_tran"], settings=settings)
    logins = []
    for number in range(count):
        login, password = f"bench_analyst_{number:02d}", f"bench-analyst-{number:02d}-pw"
        admin.create_user(login, f"Bench Analyst {number}", "data_user", password=password)
        admin.assign_case(case_number, login)
        supervisor.record_authorization(login, "Benchmark of the audit path, memo 0")
        trainer.record_training(login, load_profile("lapd").data["training"]["course"], "in_person", "bench", 0.9)
        logins.append((login, password))
    for person in (admin, supervisor, trainer):
        person.close()
    return logins


PACE_S = 0.5  # each analyst's call every half second: 32 calls/s from 16 people, far above real casework


def calls_while(settings, case_number: str, logins: list[tuple[str, str]], seconds: float,
                holder: tuple[str, str] | None) -> dict[str, float]:
    """Latency of the logins' audited calls (each login one every PACE_S) for ``seconds``, while ``holder`` (if
    any) keeps a transaction open after a denied call; then every row is linked and checked."""
    owner = connect_raw(db.admin_url(settings))
    with owner, owner.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(audit_id), 0) FROM alpr.audit_log")
        first_id = cursor.fetchone()[0]
    held = None
    if holder is not None:
        url = db.user_url(settings, *holder)
        held = psycopg2.connect(host=url.host, port=url.port, dbname=url.database, user=holder[0], password=holder[1])
        with held.cursor() as cursor:  # BEGIN (psycopg2 opens it) ... and never commits while the others work
            cursor.execute("SELECT outcome FROM api.open_access('999999999', 'criminal_investigation', "
                           "'Holding a transaction open after a denied call', '{}')")
            assert cursor.fetchone()[0] == "denied"
    samples: list[float] = []
    lock = threading.Lock()
    start_line = threading.Barrier(len(logins) + 1)
    deadline = [0.0]

    def analyst(login: str, password: str) -> None:
        own = workbench.connect(user=login, password=password, settings=settings)
        access = own.open_case(case_number, "criminal_investigation", "Benchmark of the audited access path")
        access.plate_history(PLATE, *WINDOW)
        start_line.wait()
        mine = []
        due = time.perf_counter() + random.uniform(0, PACE_S)  # spread the analysts over the half second
        while due < deadline[0]:
            time.sleep(max(0.0, due - time.perf_counter()))
            started = time.perf_counter()
            access.plate_history(PLATE, *WINDOW)
            mine.append((time.perf_counter() - started) * 1000)
            due += PACE_S
        with lock:
            samples.extend(mine)
        own.close()

    together([threading.Thread(target=analyst, args=login) for login in logins], start_line, deadline, seconds)
    if held is not None:
        held.rollback()
        held.close()
    checker = workbench.connect(user="supervisor_sato", password=PASSWORD["supervisor_sato"], settings=settings)
    chain = checker.verify_audit_chain()
    checker.close()
    with owner, owner.cursor() as cursor:  # one audit row per call made, warm-up included: none lost
        cursor.execute("SELECT count(*) FROM alpr.audit_log WHERE audit_id > %s AND function_name = 'plate_history' "
                       "AND db_user = ANY (%s)", (first_id, [login for login, _ in logins]))
        recorded = cursor.fetchone()[0]
    owner.close()
    ordered = sorted(samples)
    return {"calls": len(ordered), "audit_rows_lost": len(ordered) + len(logins) - recorded, "p50_ms": round(statistics.median(ordered), 2),
            "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 2), "max_ms": round(ordered[-1], 2),
            "chain_ok_after": chain.ok, "pending_after": chain.pending}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--stall", type=float, default=30.0)
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
                assert len(cursor.fetchone()[0]["payload"]) == expected

        params = {"plate": PLATE, "start": WINDOW[0], "end": WINDOW[1]}
        audited = timed(audited_path, args.calls)
        analyst.close()
        owner = connect_raw(url)
        owner.autocommit = True
        with owner.cursor() as cursor:
            cursor.execute(f'ALTER ROLE analyst_avery IN DATABASE "{url.database}" SET pgaudit.log = \'none\'')
        analyst = psycopg2.connect(host=url.host, port=url.port, dbname=url.database, user="analyst_avery",
                                   password=PASSWORD["analyst_avery"])
        unlogged = timed(audited_path, args.calls)
        analyst.close()
        with owner.cursor() as cursor:
            cursor.execute(f'ALTER ROLE analyst_avery IN DATABASE "{url.database}" RESET pgaudit.log')
        owner.autocommit = False
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
        logins = analysts(settings, case_number, 17)
        rates = {str(clients): throughput(settings, case_number, logins[1:1 + clients], args.seconds)
                 for clients in (1, 4, 16)}
        stalled = calls_while(settings, case_number, logins[1:], args.stall, holder=logins[0])
        calm = calls_while(settings, case_number, logins[1:], args.stall, holder=None)
        checker = workbench.connect(user="supervisor_sato", password=PASSWORD["supervisor_sato"], settings=settings)
        chain = checker.verify_audit_chain()
        checker.close()
    audited_p, baseline_p = percentiles(audited), percentiles(baseline)
    print(json.dumps({
        "benchmark": "audit", "rows_per_call": expected, "calls": args.calls,
        "audited_path_ms": audited_p, "baseline_direct_query_ms": baseline_p,
        "audit_overhead_ms": {k: round(audited_p[k] - baseline_p[k], 3) for k in audited_p},
        "audited_path_without_pgaudit_ms": percentiles(unlogged),
        "audit_write_ms": percentiles(writes), "client_call_ms": percentiles(client), "calls_per_s": rates,
        "stalled": {"holder_open_s": args.stall, "while_held": stalled, "baseline_nobody_holding": calm,
                    "target_p99_ms": 100},
        "audit_chain_ok": chain.ok, "records_checked": chain.records_checked,
        "target_overhead_median_ms": 2.0, "machine": machine()}))


if __name__ == "__main__":
    main()
