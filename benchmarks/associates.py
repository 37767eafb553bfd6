"""Associate (convoy) analysis at scale, as one JSON line.

Usage: python benchmarks/associates.py [--reads 10000000] [--plates 20] [--runs 2]. Loads the sample city into
a scratch database (dropped afterwards), picks ``--plates`` plates with 40-60 reads in the last 30 days, and
times ``CaseAccess.associates`` for each over those 30 days (2 minutes, 2 cameras): the audited call with
its ranking, the commit of its audit row and the fetch, from Python (target: p95 < 500 ms). Beside it, the
same ranking in DuckDB (in-process, columnar) over the same reads copied out of the store, with the cameras'
neighbourhoods precomputed; the two rankings are compared plate for plate.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from datetime import timedelta

import pandas as pd
from _scratch import END, machine, percentile, scratch_database
from pyproj import Geod

import workbench
from workbench import migrate
from workbench.policy import load_profile
from workbench.sample.load import DEMO_USERS, sample_cases

WITHIN_S = 120
MIN_PLACES = 2

DUCKDB_RANKING = """
WITH target AS (
    SELECT read_id, read_at, camera_id FROM reads WHERE plate = $plate AND read_at >= $start AND read_at < $end
    ORDER BY read_at LIMIT $max_targets
), near AS (
    SELECT t.read_id AS target_read, n.neighbour AS camera_id FROM target t JOIN neighbours n ON n.camera_id = t.camera_id
), together AS (
    SELECT t.read_id AS target_read, r.plate, r.camera_id, r.read_at
    FROM target t JOIN near n ON n.target_read = t.read_id
    JOIN reads r ON r.camera_id = n.camera_id AND r.read_at BETWEEN t.read_at - INTERVAL (CAST($within AS INTEGER)) SECOND
                                                         AND t.read_at + INTERVAL (CAST($within AS INTEGER)) SECOND
    WHERE r.plate <> $plate
), grouped AS (
    SELECT plate, count(DISTINCT target_read) AS k, count(DISTINCT camera_id) AS cameras,
           count(DISTINCT CAST(read_at AS DATE)) AS days
    FROM together GROUP BY plate HAVING count(DISTINCT camera_id) >= $min_places
), traffic AS (
    SELECT g.plate, count(*) AS passes
    FROM grouped g CROSS JOIN target t JOIN near n ON n.target_read = t.read_id
    JOIN reads r ON r.plate = g.plate AND r.camera_id = n.camera_id AND r.read_at >= $start AND r.read_at < $end
                AND hour(r.read_at) = hour(t.read_at)
    GROUP BY g.plate
)
SELECT g.plate, g.k, g.cameras, g.days,
       coalesce(tr.passes, 0) * 2 * $within / (greatest(1.0, $days) * 3600.0) AS expected
FROM grouped g LEFT JOIN traffic tr USING (plate)
"""


def poisson_tail(k: int, mean: float) -> float:
    import math

    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    return max(0.0, 1 - sum(math.exp(-mean + i * math.log(mean) - math.lgamma(i + 1)) for i in range(k)))


def copy_out(url) -> tuple[pd.DataFrame, pd.DataFrame]:
    connection = migrate.connect_raw(url)
    try:
        with connection, connection.cursor() as cursor:
            buffer = io.StringIO()
            cursor.copy_expert("COPY (SELECT read_id, plate, read_at AT TIME ZONE 'UTC' AS read_at, camera_id "
                               "FROM alpr.reads WHERE logically_deleted_at IS NULL) TO STDOUT WITH CSV HEADER", buffer)
            buffer.seek(0)
            reads = pd.read_csv(buffer, parse_dates=["read_at"])
            cursor.execute("SELECT camera_id, ST_Y(location::geometry), ST_X(location::geometry) FROM alpr.cameras")
            cameras = pd.DataFrame(cursor.fetchall(), columns=["camera_id", "lat", "lon"])
    finally:
        connection.close()
    return reads, cameras


def neighbours(cameras: pd.DataFrame, metres: float) -> pd.DataFrame:
    geod = Geod(ellps="WGS84")
    pairs = [(a.camera_id, b.camera_id) for a in cameras.itertuples() for b in cameras.itertuples()
             if a.camera_id == b.camera_id or geod.inv(a.lon, a.lat, b.lon, b.lat)[2] <= metres]
    return pd.DataFrame(pairs, columns=["camera_id", "neighbour"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=10_000_000)
    parser.add_argument("--plates", type=int, default=20)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    password = {u.login: u.password for u in DEMO_USERS}
    start, end = END - timedelta(days=30), END
    with scratch_database("alpr_workbench_bench_associates", reads=args.reads) as (settings, url, report):
        profile = load_profile("lapd")
        config = profile.data["associates"]
        budget = profile.data["access"]["budget"]
        for key in ("reads_per_day", "plates_per_day", "reads_per_case", "plates_per_case"):
            budget[key] = 100_000_000  # the benchmark measures the query, not the budget's refusal
        migrate.store_profile(url, profile)
        connection = migrate.connect_raw(url)
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT plate FROM alpr.reads WHERE read_at >= %s AND read_at < %s GROUP BY plate "
                           "HAVING count(*) BETWEEN 40 AND 60 ORDER BY md5(plate) LIMIT %s", (start, end, args.plates))
            plates = [row[0] for row in cursor.fetchall()]
        connection.close()
        wb = workbench.connect(user="analyst_avery", password=password["analyst_avery"], settings=settings)
        case_number = list(sample_cases(profile, END))[0]
        access = wb.open_case(case_number, "criminal_investigation", "Benchmark of associate analysis at scale")
        began = time.perf_counter()
        access.associates(plates[-1], start, end)
        cold_ms = (time.perf_counter() - began) * 1000
        for plate in plates:  # warm: the first look at each plate reads its pages from disk
            access.associates(plate, start, end)
        store_ms, rankings = [], {}
        for _ in range(args.runs):
            for plate in plates:
                began = time.perf_counter()
                result = access.associates(plate, start, end, within=timedelta(seconds=WITHIN_S), min_places=MIN_PLACES)
                store_ms.append((time.perf_counter() - began) * 1000)
                rankings[plate] = result.associates
        wb.close()

        import duckdb

        reads, cameras = copy_out(url)
        duck = duckdb.connect()
        duck.register("reads_frame", reads)
        duck.execute("CREATE TABLE reads AS SELECT * FROM reads_frame ORDER BY camera_id, read_at")
        duck.register("neighbours", neighbours(cameras, float(config["adjacent_m"])))
        days = (end - start).total_seconds() / 86400
        values = {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None), "within": WITHIN_S,
                  "min_places": MIN_PLACES, "days": days, "max_targets": int(config["max_target_reads"])}
        duck_ms, agree = [], 0
        for _ in range(args.runs):
            for plate in plates:
                began = time.perf_counter()
                frame = duck.execute(DUCKDB_RANKING, {**values, "plate": plate}).df()
                frame["chance"] = [poisson_tail(int(k), float(e)) for k, e in zip(frame["k"], frame["expected"], strict=True)]
                frame = frame.sort_values(["chance", "k", "plate"], ascending=[True, False, True])
                duck_ms.append((time.perf_counter() - began) * 1000)
                mine = rankings[plate]
                agree += frame["plate"].tolist()[:len(mine)] == mine["plate"].tolist()
    print(json.dumps({
        "benchmark": "associates", "reads": report.reads if report else 0, "plates": len(plates),
        "window_days": 30, "within_s": WITHIN_S, "min_places": MIN_PLACES,
        "audited_call_ms": {"p50": round(statistics.median(store_ms), 1), "p95": round(percentile(store_ms, 0.95), 1),
                            "max": round(max(store_ms), 1), "calls": len(store_ms),
                            "cold_first_call_ms": round(cold_ms, 1)},
        "baseline_duckdb_ms": {"p50": round(statistics.median(duck_ms), 1), "p95": round(percentile(duck_ms, 0.95), 1)},
        "rankings_equal": f"{agree} of {len(duck_ms)}",
        "associates_per_plate_median": statistics.median(len(r) for r in rankings.values()) if rankings else 0,
        "target_p95_ms": 500, "machine": machine()}))


if __name__ == "__main__":
    main()
