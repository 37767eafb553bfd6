"""Loads the sample city into PostGIS: cameras, reads (COPY), demo people, cases, a hot list, a legal hold."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import URL
from tqdm.auto import tqdm

from ..bulkload import BulkLoader
from ..migrate import connect_raw, sql_file
from ..plates import skeleton
from ..policy import Profile
from . import city
from .generator import _end_of, generate_reads, planted_reads, scenarios

DEFAULT_READS = 300_000


@dataclass(frozen=True)
class DemoUser:
    login: str
    password: str
    full_name: str
    role: str
    group_role: str
    active: bool = True
    trained_days_ago: int | None = 30
    authorized: bool = True


# Demo logins: passwords are for the demo only (README, "Demo logins").
DEMO_USERS = (
    DemoUser("analyst_avery", "avery-demo-2026", "Avery Analyst", "data_user", "workbench_user"),
    DemoUser("investigator_ito", "ito-demo-2026", "Det. Ito", "data_user", "workbench_user"),
    DemoUser("supervisor_sato", "sato-demo-2026", "Sgt. Sato", "supervisor", "workbench_supervisor"),
    DemoUser("trainer_tran", "tran-demo-2026", "Trainer Tran", "trainer", "workbench_trainer"),
    DemoUser("admin_adams", "adams-demo-2026", "Admin Adams", "administrator", "workbench_administrator"),
    DemoUser("analyst_deactivated", "deactivated-demo-2026", "Former Analyst", "data_user", "workbench_user",
             active=False),
    DemoUser("analyst_lapsed", "lapsed-demo-2026", "Lapsed Analyst", "data_user", "workbench_user",
             trained_days_ago=400),
    DemoUser("analyst_untrained", "untrained-demo-2026", "New Analyst", "data_user", "workbench_user",
             trained_days_ago=None),
)


def sample_cases(profile: Profile, end: datetime) -> dict[str, dict]:
    """Case number -> case, in the profile's own case-number format."""
    year = end.year
    return {
        profile.case_number(101, year): {"title": "Shooting and robbery series, central Long Beach",
                                         "offense_category": "serious_or_violent_felony", "status": "open",
                                         "assigned": ["analyst_avery", "investigator_ito", "analyst_deactivated",
                                                      "analyst_lapsed", "analyst_untrained", "admin_adams"]},
        profile.case_number(102, year): {"title": "Stolen vehicle recovery", "offense_category": "vehicle_theft",
                                         "status": "open", "assigned": ["analyst_avery", "investigator_ito"]},
        profile.case_number(103, year - 3): {"title": "Homicide, evidence under legal hold",
                                             "offense_category": "serious_or_violent_felony", "status": "open",
                                             "assigned": ["investigator_ito", "admin_adams"]},
        profile.case_number(104, year - 1): {"title": "Burglary (closed)", "offense_category": "burglary",
                                             "status": "closed", "assigned": ["analyst_avery"]},
    }


@dataclass(frozen=True)
class LoadReport:
    reads: int
    server_seconds: float  # COPY, index builds, ATTACH and the plates dictionary: the benchmark's figure
    total_seconds: float
    skipped: bool

    @property
    def reads_per_second(self) -> float:
        return self.reads / self.server_seconds if self.server_seconds else 0.0


def load_sample(url: URL, profile: Profile, reads: int = DEFAULT_READS, seed: int = 7,
                end: datetime | None = None, replace: bool = False, progress: bool = True) -> LoadReport:
    """Load the sample city once; a second call with no ``replace`` changes nothing."""
    end = _end_of(end)
    started = time.perf_counter()
    connection = connect_raw(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(sql_file("seed/sample_meta.sql"))
            cursor.execute("SELECT reads FROM workbench_meta.sample_load")
            existing = cursor.fetchone()
        if existing and not replace:
            _seed_people_and_cases(connection, profile, end)
            return LoadReport(int(existing[0]), 0.0, time.perf_counter() - started, skipped=True)
        with connection, connection.cursor() as cursor:
            if replace:
                cursor.execute(sql_file("seed/clear_sample.sql"))
            for camera in city.cameras():
                cursor.execute(sql_file("seed/upsert_camera.sql"), camera.__dict__)
        loader = BulkLoader(lambda: connect_raw(url))
        bar = tqdm(total=reads, desc="loading reads", unit="read", disable=not progress)
        for chunk in generate_reads(reads, seed=seed, end=end):
            loader.add(chunk)
            bar.update(len(chunk))
        bar.close()
        loader.add(planted_reads(seed=seed, end=end))
        bulk = loader.finish()
        with connection, connection.cursor() as cursor:
            # Months the data did not reach still need partitions for later reads (footage, imports).
            cursor.execute("SELECT alpr.ensure_partitions(%s, %s)", (end - timedelta(days=2300), end + timedelta(days=40)))
            started_plates = time.perf_counter()
            cursor.execute("SELECT alpr.refresh_plates()")
            bulk.index_seconds += time.perf_counter() - started_plates
            loaded = bulk.reads
            cursor.execute("INSERT INTO workbench_meta.sample_load (seed, reads, end_date) VALUES (%s, %s, %s) "
                           "ON CONFLICT (singleton) DO UPDATE SET seed = excluded.seed, reads = excluded.reads, "
                           "end_date = excluded.end_date, loaded_at = now()", (seed, loaded, end))
        _seed_people_and_cases(connection, profile, end)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE alpr.reads")
            cursor.execute("ANALYZE alpr.plates")
        return LoadReport(loaded, bulk.server_seconds, time.perf_counter() - started, skipped=False)
    finally:
        connection.close()


def _seed_people_and_cases(connection, profile: Profile, end: datetime) -> None:
    plan = scenarios(end)
    with connection, connection.cursor() as cursor:
        for user in DEMO_USERS:
            cursor.execute(sql_file("seed/demo_login.sql"), {
                "login": user.login, "password": user.password, "full_name": user.full_name, "role": user.role,
                "group_role": user.group_role, "active": user.active,
                "authorization": "Written authorization on file (demo)" if user.authorized else None,
                "authorized_by": "supervisor_sato" if user.authorized else None,
                "course": profile.data["training"]["course"], "trained_days_ago": user.trained_days_ago})
            if user.role == "administrator":
                cursor.execute(f'GRANT workbench_user TO "{user.login}"')
        cases = sample_cases(profile, end)
        for case_number, case in cases.items():
            cursor.execute(sql_file("seed/case.sql"), {"case_number": case_number, **case})
        for plate, reason in zip(plan.stolen_plates, ("Stolen vehicle (NCIC)", "Stolen plate (SVS)"), strict=True):
            cursor.execute(sql_file("seed/hotlist.sql"), {
                "name": "Stolen vehicles (sample)", "source": "SVS/NCIC extract", "plate": plate,
                "skeleton": skeleton(plate), "state": "CA", "reason": reason, "expires_at": end + timedelta(days=60)})
        cursor.execute("SELECT alpr.match_hotlists('-infinity', 'infinity')")
        for place in city.sensitive_places():
            cursor.execute(sql_file("seed/sensitive_place.sql"), place)
        hold_case = list(cases)[2]
        cursor.execute(sql_file("seed/legal_hold.sql"), {
            "case_number": hold_case, "reason": "Vehicle sightings are evidence in a pending homicide prosecution",
            "contact": "Det. Ito, Homicide, ext. 5521", "plate": plan.held_plate,
            "start": plan.held_window[0], "stop": plan.held_window[1]})
        cursor.execute("SELECT alpr.apply_all_login_limits()")  # the demo logins get the profile's limits too


def utc_today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
