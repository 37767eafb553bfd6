"""A real PostGIS for the tests: the private cluster (or WORKBENCH_ADMIN_DSN), a fresh test database."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg2
import pytest

import workbench
from workbench import cluster, db, migrate
from workbench.policy import load_profile
from workbench.sample.load import DEMO_USERS, load_sample, sample_cases
from workbench.settings import load_settings

TEST_DATABASE = "alpr_workbench_test"
END = datetime(2026, 11, 1, tzinfo=UTC)
PASSWORDS = {user.login: user.password for user in DEMO_USERS}


@pytest.fixture(scope="session")
def settings():
    base = load_settings()
    if base.embedded:
        cluster.start(base)
    return load_settings({"database": TEST_DATABASE})


@pytest.fixture(scope="session")
def admin_url(settings):
    url = db.admin_url(settings)
    migrate.fresh_database(url)
    migrate.store_profile(url, load_profile("lapd"))
    load_sample(url, load_profile("lapd"), reads=30_000, seed=11, end=END, progress=False)
    return url


@pytest.fixture(scope="session")
def cases(admin_url):
    return list(sample_cases(load_profile("lapd"), END))


@pytest.fixture(scope="session")
def connect_as(settings, admin_url):
    opened = []

    def _connect(login: str) -> workbench.Workbench:
        wb = workbench.connect(user=login, password=PASSWORDS[login], settings=settings)
        opened.append(wb)
        return wb

    yield _connect
    for wb in opened:
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
