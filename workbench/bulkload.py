"""Bulk load of reads into the partitioned store with COPY (sample city, benchmarks, agency imports).

Months with no reads yet are staged: COPY into a bare table, then build its indexes and ATTACH it
as the month's partition (two months at a time, one per core). Months that already hold reads take
COPY through ``alpr.reads``. Runs as the store owner (administrator set-up), never as a data user.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from psycopg2 import sql

from .migrate import sql_file

_EWKB_POINT_4326 = np.frombuffer(bytes.fromhex("0101000020E6100000"), dtype=np.uint8)


def _ewkb_hex(lat: np.ndarray, lon: np.ndarray) -> list[str]:
    """Points as hex EWKB, the cheapest form for PostGIS to parse in COPY."""
    count = len(lat)
    buffer = np.empty((count, 25), dtype=np.uint8)
    buffer[:, :9] = _EWKB_POINT_4326
    buffer[:, 9:17] = np.ascontiguousarray(lon, dtype="<f8").view(np.uint8).reshape(count, 8)
    buffer[:, 17:25] = np.ascontiguousarray(lat, dtype="<f8").view(np.uint8).reshape(count, 8)
    text = buffer.tobytes().hex()
    return [text[i * 50:(i + 1) * 50] for i in range(count)]


def reads_to_csv(frame: pd.DataFrame) -> str:
    """Reads (columns as made by the generator) as the CSV that ``queries/copy_reads.sql`` expects."""
    out = pd.DataFrame({
        "read_at": frame["read_at"].dt.strftime("%Y-%m-%d %H:%M:%S+00"), "plate_raw": frame["plate_raw"],
        "plate": frame["plate"], "plate_skeleton": frame["plate_skeleton"], "state": frame["state"],
        "location": _ewkb_hex(frame["lat"].to_numpy(), frame["lon"].to_numpy()), "camera_id": frame["camera_id"],
        "source": frame["source"], "confidence": frame["confidence"], "vehicle_make": frame["vehicle_make"],
        "vehicle_color": frame["vehicle_color"],
    })
    return out.to_csv(header=False, index=False)


@dataclass
class BulkLoadReport:
    reads: int = 0
    copy_seconds: float = 0.0
    index_seconds: float = 0.0
    months_staged: list[date] = field(default_factory=list)
    months_direct: list[date] = field(default_factory=list)

    @property
    def server_seconds(self) -> float:
        return self.copy_seconds + self.index_seconds


class BulkLoader:
    """Feed DataFrames of reads with :meth:`add`; :meth:`finish` indexes and attaches staged months.

    ``connect`` opens a new owner connection (one per index-building worker).
    """

    def __init__(self, connect: Callable[[], object], workers: int = 2) -> None:
        self._connect = connect
        self._connection = connect()
        self._workers = workers
        self._targets: dict[date, str | None] = {}
        self.report = BulkLoadReport()

    def add(self, frame: pd.DataFrame) -> None:
        months = frame["read_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
        for period, rows in frame.groupby(months, sort=True):
            month = period.to_timestamp().date()
            target = self._target(month)
            payload = io.StringIO(reads_to_csv(rows))
            statement = sql.SQL(sql_file("queries/copy_reads.sql")).format(
                table=sql.Identifier("alpr", target) if target else sql.Identifier("alpr", "reads"))
            started = time.perf_counter()
            with self._connection, self._connection.cursor() as cursor:
                cursor.copy_expert(statement, payload)
            self.report.copy_seconds += time.perf_counter() - started
            self.report.reads += len(rows)

    def _target(self, month: date) -> str | None:
        if month not in self._targets:
            with self._connection, self._connection.cursor() as cursor:
                cursor.execute("SELECT alpr.bulk_stage_month(%s)", (month,))
                self._targets[month] = cursor.fetchone()[0]
            (self.report.months_staged if self._targets[month] else self.report.months_direct).append(month)
        return self._targets[month]

    def finish(self) -> BulkLoadReport:
        staged = [month for month, target in self._targets.items() if target]
        started = time.perf_counter()

        def attach(months: list[date]) -> None:
            connection = self._connect()
            try:
                for month in months:
                    with connection, connection.cursor() as cursor:
                        cursor.execute("SET maintenance_work_mem = '256MB'")
                        cursor.execute("SELECT alpr.bulk_attach_month(%s)", (month,))
            finally:
                connection.close()

        # Months dealt round-robin: one worker per core builds indexes; ATTACH itself is brief.
        shares = [staged[i::self._workers] for i in range(self._workers)]
        with ThreadPoolExecutor(self._workers) as pool:
            for outcome in [pool.submit(attach, share) for share in shares if share]:
                outcome.result()
        self.report.index_seconds += time.perf_counter() - started
        self._connection.close()
        return self.report
