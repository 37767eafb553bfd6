"""Search latency at 10 million reads through the audited API, with a pandas scan of the same data.

Usage: python benchmarks/search.py [--reads 10000000] [--runs 50] [--pandas-runs 3]. Loads the sample
city into a scratch database (dropped afterwards) and keeps the same reads in a DataFrame. Each run
draws fresh parameters (seeded), so no two runs hit the same cached rows. Times are whole calls of
the Python client (access check, query, audit row, fetch, GeoDataFrame). One JSON line.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from datetime import timedelta

import numpy as np
import pandas as pd
from _scratch import END, machine, scratch_database

import workbench
from workbench.access import Scene
from workbench.plates import LOOKALIKE_CLASSES, matches, parse_pattern
from workbench.policy import load_profile
from workbench.sample.city import cameras
from workbench.sample.generator import generate_reads, planted_reads
from workbench.sample.load import DEMO_USERS, sample_cases

TARGETS_MS = {"wildcard_30d": {"median": 100, "p95": 250}, "lookalike_1_mistake": {"p95": 500},
              "canvass_300m_4h": {"p95": 50}, "common_3_scenes": {"p95": 300}, "sightings_2y": {"p95": 20}}
FIXED = [c for c in cameras() if c.kind == "fixed"]
LOOKALIKE = {char: group for group in LOOKALIKE_CLASSES for char in group}


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median": round(statistics.median(ordered), 1), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1)}


class Draw:
    """Seeded query parameters over the loaded history, shared by the store and the pandas scan."""

    def __init__(self, reads: pd.DataFrame, seed: int = 42) -> None:
        self.rng = np.random.default_rng(seed)
        self.reads = reads

    def window(self, days: float) -> tuple[pd.Timestamp, pd.Timestamp]:
        end = pd.Timestamp(END) - pd.Timedelta(hours=int(self.rng.integers(0, 700 * 24)))
        return end - pd.Timedelta(days=days), end

    def plate(self) -> str:
        return str(self.reads["plate"].iat[int(self.rng.integers(len(self.reads)))])

    def wildcard(self) -> str:
        plate = list(self.plate())
        for index in self.rng.choice(len(plate), size=min(3, len(plate) - 3), replace=False):
            plate[index] = "?"
        return "".join(plate)

    def lookalike_with_mistake(self) -> str:
        plate = list(self.plate())
        swap, wrong = self.rng.choice(len(plate), size=2, replace=False)
        group = LOOKALIKE.get(plate[swap], plate[swap])
        plate[swap] = group[int(self.rng.integers(len(group)))]
        plate[wrong] = "X" if plate[wrong] != "X" else "Y"
        return "".join(plate)

    def scene(self, label: str, hours: float = 2.0) -> Scene:
        camera = FIXED[int(self.rng.integers(len(FIXED)))]
        at = pd.Timestamp(END) - pd.Timedelta(minutes=int(self.rng.integers(0, 700 * 24 * 60)))
        return Scene(label, (at - pd.Timedelta(hours=hours)).to_pydatetime(), (at + pd.Timedelta(hours=hours)).to_pydatetime(),
                     lat=camera.lat + float(self.rng.normal(0, 0.001)), lon=camera.lon + float(self.rng.normal(0, 0.001)),
                     radius_m=300)


class PandasScan:
    """The same searches as a plain scan of an in-memory DataFrame (the baseline)."""

    def __init__(self, reads: pd.DataFrame) -> None:
        self.reads = reads

    def _window(self, start, end) -> pd.DataFrame:
        at = self.reads["read_at"]
        return self.reads[(at >= start) & (at < end)]

    def wildcard(self, pattern: str, start, end) -> int:
        regex = "^" + pattern.replace("?", ".") + "$"
        return int(self._window(start, end)["plate"].str.match(re.compile(regex)).sum())

    def lookalike(self, pattern: str, start, end) -> int:
        frame = self._window(start, end)
        parsed = parse_pattern(pattern)
        hits = {p for p in frame["plate"].unique() if matches(parsed, p, lookalike=True, max_mistakes=1) is not None}
        return int(frame["plate"].isin(hits).sum())

    def canvass(self, scene: Scene) -> pd.Series:
        frame = self._window(pd.Timestamp(scene.start), pd.Timestamp(scene.end))
        lat, lon = np.radians(frame["lat"].to_numpy()), np.radians(frame["lon"].to_numpy())
        lat0, lon0 = np.radians(scene.lat), np.radians(scene.lon)
        a = np.sin((lat - lat0) / 2) ** 2 + np.cos(lat) * np.cos(lat0) * np.sin((lon - lon0) / 2) ** 2
        return frame["plate"][2 * 6_371_008.8 * np.arcsin(np.sqrt(a)) <= scene.radius_m]

    def common(self, scenes: list[Scene]) -> int:
        seen = pd.concat([self.canvass(s).drop_duplicates().to_frame().assign(scene=i) for i, s in enumerate(scenes)])
        return int((seen.groupby("plate")["scene"].nunique() >= 2).sum())

    def sightings(self, plate: str, start, end) -> int:
        frame = self._window(start, end)
        return int((frame["plate"] == plate).sum())


def load_frame(reads: int, seed: int) -> pd.DataFrame:
    keep = ["read_at", "plate", "lat", "lon"]
    parts = [chunk[keep] for chunk in generate_reads(reads, seed=seed, end=END)]
    parts.append(planted_reads(seed=seed, end=END)[keep])
    frame = pd.concat(parts, ignore_index=True)
    return frame


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--pandas-runs", type=int, default=3)
    args = parser.parse_args()
    password = {u.login: u.password for u in DEMO_USERS}
    with scratch_database("alpr_workbench_bench_search", reads=args.reads) as (settings, _, report):
        frame = load_frame(args.reads, seed=1)
        wb = workbench.connect(user="analyst_avery", password=password["analyst_avery"], settings=settings)
        case_number = list(sample_cases(load_profile("lapd"), END))[0]
        access = wb.open_case(case_number, "criminal_investigation", "Benchmark of the search functions at scale")

        two_years = (pd.Timestamp(END - timedelta(days=730)), pd.Timestamp(END))

        def wildcard(draw: Draw):
            pattern, window = draw.wildcard(), draw.window(30)
            return lambda: access.search_plates(pattern, *window), lambda scan: scan.wildcard(pattern, *window)

        def lookalike(draw: Draw):
            pattern, window = draw.lookalike_with_mistake(), draw.window(30)
            return (lambda: access.search_plates(pattern, *window, lookalike=True, max_mistakes=1),
                    lambda scan: scan.lookalike(pattern, *window))

        def canvass(draw: Draw):
            scene = draw.scene("scene")
            return lambda: access.canvass([scene]), lambda scan: len(scan.canvass(scene))

        def common(draw: Draw):
            scenes = [draw.scene(f"scene {i}") for i in range(3)]
            return lambda: access.canvass(scenes, min_scenes=2), lambda scan: scan.common(scenes)

        def sightings(draw: Draw):
            plate = draw.plate()
            return lambda: access.plate_history(plate, *two_years), lambda scan: scan.sightings(plate, *two_years)

        queries = {"wildcard_30d": wildcard, "lookalike_1_mistake": lookalike, "canvass_300m_4h": canvass,
                   "common_3_scenes": common, "sightings_2y": sightings}
        scan = PandasScan(frame)
        results: dict[str, dict] = {}
        for number, (name, make) in enumerate(queries.items()):
            draw = Draw(frame, seed=100 + number)
            for _ in range(5):  # warm-up with other parameters
                make(draw)[0]()
            store_ms, rows = [], []
            for _ in range(args.runs):
                call, _ = make(draw)
                started = time.perf_counter()
                result = call()
                store_ms.append((time.perf_counter() - started) * 1000)
                rows.append(len(result.reads))
            pandas_ms = []
            for _ in range(args.pandas_runs):
                _, baseline = make(draw)
                started = time.perf_counter()
                baseline(scan)
                pandas_ms.append((time.perf_counter() - started) * 1000)
            store, pandas_summary = summary(store_ms), summary(pandas_ms)
            results[name] = {"store_ms": store, "pandas_ms": pandas_summary,
                             "pandas_over_store": round(pandas_summary["median"] / store["median"], 1),
                             "median_rows": statistics.median(rows), "target_ms": TARGETS_MS[name]}
        wb.close()
    print(json.dumps({"benchmark": "search", "reads": report.reads if report else 0,
                      "load_reads_per_s": round(report.reads_per_second) if report else None,
                      "runs": args.runs, "queries": results, "machine": machine()}))


if __name__ == "__main__":
    main()
