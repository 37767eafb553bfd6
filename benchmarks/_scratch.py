"""A scratch database on the private cluster (or WORKBENCH_ADMIN_DSN's server) for one benchmark run."""

from __future__ import annotations

import os
import platform
from contextlib import contextmanager
from datetime import UTC, datetime

from workbench import cluster, db, migrate
from workbench.policy import load_profile
from workbench.sample.load import LoadReport, load_sample
from workbench.settings import Settings, load_settings

END = datetime(2026, 11, 1, tzinfo=UTC)


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextmanager
def scratch_database(name: str, reads: int | None, seed: int = 1):
    """Yield (settings, owner URL, load report or None); the database is dropped afterwards."""
    settings: Settings = load_settings({"database": name})
    if settings.embedded:
        cluster.start(load_settings())
    url = db.admin_url(settings)
    report: LoadReport | None = None
    try:
        migrate.fresh_database(url)
        migrate.store_profile(url, load_profile("lapd"))
        if reads is not None:
            report = load_sample(url, load_profile("lapd"), reads=reads, seed=seed, end=END, progress=False)
        yield settings, url, report
    finally:
        migrate.drop_database(url)
