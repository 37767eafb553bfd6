"""A real PostGIS for the tests: the private cluster (or WORKBENCH_ADMIN_DSN), a fresh test database."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import pytest

import workbench
from workbench import cluster, db, migrate
from workbench.policy import load_profile
from workbench.sample.load import DEMO_USERS, load_sample, sample_cases
from workbench.schedule import install_watch
from workbench.settings import load_settings

TEST_DATABASE = "alpr_workbench_test"
TEST_HOME = Path(__file__).resolve().parent.parent / ".workbench" / "test"
TEST_PORT = 55442
END = datetime(2026, 11, 1, tzinfo=UTC)
# The last 4 MB of the server log (superuser): where a test looks for what the server wrote just now.
RECENT_LOG = ("SELECT pg_read_file(f, greatest((pg_stat_file(f)).size - 4000000, 0), 4000000) "
              "FROM pg_current_logfile() f")
PASSWORDS = {user.login: user.password for user in DEMO_USERS}


@pytest.fixture(scope="session")
def settings():
    """The tests' own server: with the private cluster, a second private cluster under .workbench/test (its own
    logins, so the user's sample database, its demo people and their training are never touched); with
    WORKBENCH_ADMIN_DSN, a test database on that server. Notebooks the tests run inherit it."""
    base = load_settings()
    if not base.embedded:
        return load_settings({"database": TEST_DATABASE})
    overrides = {"home": TEST_HOME, "pg_port": TEST_PORT, "database": TEST_DATABASE, "upload_dir": TEST_HOME / "uploads"}
    cluster.start(load_settings(overrides))
    for key, value in overrides.items():
        os.environ[f"WORKBENCH_{key.upper()}"] = str(value)
    return load_settings(overrides)


@pytest.fixture(scope="session")
def admin_url(settings):
    url = db.admin_url(settings)
    migrate.fresh_database(url)
    migrate.store_profile(url, load_profile("lapd"))
    load_sample(url, load_profile("lapd"), reads=30_000, seed=11, end=END, progress=False)
    assert install_watch(url, settings.home) is None or not settings.embedded
    return url


@pytest.fixture(scope="session")
def cases(admin_url):
    return list(sample_cases(load_profile("lapd"), END))


@pytest.fixture(scope="session")
def connect_as(settings, admin_url):
    opened: dict[str, workbench.Workbench] = {}

    def _connect(login: str) -> workbench.Workbench:
        # One connection (pool) per person for the whole session, as a person's notebook keeps one: each login
        # may hold only its profile's number of connections.
        if login not in opened:
            opened[login] = workbench.connect(user=login, password=PASSWORDS[login], settings=settings)
        return opened[login]

    yield _connect
    for wb in opened.values():
        wb.close()


@pytest.fixture()
def raw_as(settings, admin_url):
    """A plain psycopg2 connection as a demo login: what an analyst's own Python could do."""
    opened = []

    def _raw(login: str):
        url = db.user_url(settings, login, PASSWORDS[login])
        connection = psycopg2.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                                      dbname=url.database)
        opened.append(connection)
        return connection

    yield _raw
    for connection in opened:
        connection.close()


@pytest.fixture()
def superuser(admin_url):
    connection = migrate.connect_raw(admin_url)
    connection.autocommit = True
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def analyst_case(connect_as, cases):
    wb = connect_as("analyst_avery")
    return wb.open_case(cases[0], "criminal_investigation", "Shooting series: witness saw a partial plate 7??B12")


def audit_rows(superuser, since_id: int) -> list[dict]:
    with superuser.cursor() as cursor:
        cursor.execute("SELECT audit_id, db_user, function_name, outcome, reason, flags, parameters, rows_returned "
                       "FROM alpr.audit_log WHERE audit_id > %s ORDER BY audit_id", (since_id,))
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def last_audit_id(superuser) -> int:
    with superuser.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(audit_id), 0) FROM alpr.audit_log")
        return cursor.fetchone()[0]


def drop_login(superuser, login: str) -> None:
    """Remove a login a test created (its CONNECT was granted by the store owner, so revoked as it)."""
    with superuser.cursor() as cursor:
        cursor.execute("SET ROLE alpr_owner")
        cursor.execute(f'REVOKE CONNECT ON DATABASE "{TEST_DATABASE}" FROM "{login}"')
        cursor.execute("RESET ROLE")
        cursor.execute(f'DROP OWNED BY "{login}"; DROP ROLE IF EXISTS "{login}"')


@pytest.fixture()
def fresh_analyst(settings, superuser, cases):
    """Factory of new data users (created by the administrator, authorized by the supervisor in their own session,
    assigned to the first two cases; trained by the trainer when asked), each with budgets of their own."""
    made = []

    def _make(trained: bool = True) -> tuple[str, workbench.Workbench]:
        login = f"analyst_t_{uuid.uuid4().hex[:8]}"
        password = "test-analyst-" + uuid.uuid4().hex[:12]
        admin = workbench.connect(user="admin_adams", password=PASSWORDS["admin_adams"], settings=settings)
        admin.create_user(login, "Test Analyst", "data_user", password=password)
        for case_number in cases[:2]:
            admin.assign_case(case_number, login)
        admin.close()
        supervisor = workbench.connect(user="supervisor_sato", password=PASSWORDS["supervisor_sato"], settings=settings)
        supervisor.record_authorization(login, "Memo 2026-200, robbery unit (test)")
        supervisor.close()
        if trained:
            trainer = workbench.connect(user="trainer_tran", password=PASSWORDS["trainer_tran"], settings=settings)
            trainer.record_training(login, load_profile("lapd").data["training"]["course"], "in_person", "2026.1", 0.9)
            trainer.close()
        user = workbench.connect(user=login, password=password, settings=settings)
        made.append((login, user))
        return login, user

    yield _make
    for login, user in made:
        user.close()
        drop_login(superuser, login)


@pytest.fixture()
def policy_values(superuser):
    """Change profile values in the test database for one test (dotted path -> value); restored after."""
    import copy
    import json

    with superuser.cursor() as cursor:
        cursor.execute("SELECT profile FROM alpr.policy_profile")
        original = cursor.fetchone()[0]

    def _set(**changes: object) -> None:
        changed = copy.deepcopy(original)
        for dotted, value in changes.items():
            node = changed
            *parents, leaf = dotted.split("__")
            for part in parents:
                node = node[part]
            node[leaf] = value
        with superuser.cursor() as cursor:
            cursor.execute("UPDATE alpr.policy_profile SET profile = %s", (json.dumps(changed),))

    yield _set
    with superuser.cursor() as cursor:
        cursor.execute("UPDATE alpr.policy_profile SET profile = %s", (json.dumps(original),))
