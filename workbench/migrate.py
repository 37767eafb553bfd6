"""Ordered migrations from sql/: V###__name.sql once each, R__name.sql again whenever its text changes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import psycopg2
from sqlalchemy.engine import URL

from . import training
from .errors import DatabaseUnavailable, MigrationError
from .policy import Profile


def _sql_dir() -> Path:
    """sql/ of the checkout, or the copy an installed wheel carries as the workbench.sql package data."""
    checkout = Path(__file__).resolve().parent.parent / "sql"
    if (checkout / "R__10_core.sql").is_file():
        return checkout
    installed = Path(__file__).resolve().parent / "sql"
    if (installed / "R__10_core.sql").is_file():
        return installed
    raise MigrationError(f"the workbench's SQL files are neither in {checkout} nor in {installed}: reinstall the package")


SQL_DIR = _sql_dir()
_VERSIONED = re.compile(r"^V(\d{3})__[a-z0-9_]+\.sql$")
_REPEATABLE = re.compile(r"^R__[a-z0-9_]+\.sql$")


@dataclasses.dataclass(frozen=True)
class Migration:
    path: Path
    kind: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def sql_file(name: str) -> str:
    """Text of a file in sql/ (the only place SQL lives)."""
    return (SQL_DIR / name).read_text()


def discover(sql_dir: Path | None = None) -> list[Migration]:
    sql_dir = sql_dir or SQL_DIR
    versioned = sorted((p for p in sql_dir.glob("V*.sql") if _VERSIONED.match(p.name)), key=lambda p: p.name)
    repeatable = sorted(p for p in sql_dir.glob("R__*.sql") if _REPEATABLE.match(p.name))
    return [Migration(p, "versioned") for p in versioned] + [Migration(p, "repeatable") for p in repeatable]


def connect_raw(url: URL):
    try:
        return psycopg2.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                                dbname=url.database, connect_timeout=5, application_name="workbench-migrate")
    except psycopg2.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise DatabaseUnavailable(f"cannot reach PostGIS at {url.host}:{url.port}/{url.database}: {first_line}. "
                                  "Start the private cluster with `workbench db up`, or check WORKBENCH_ADMIN_DSN") from None


def ensure_database(url: URL) -> bool:
    """Create the database named in ``url`` if missing (connects to `postgres`); True when created."""
    connection = connect_raw(url.set(database="postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,))
            if cursor.fetchone():
                return False
            cursor.execute(f'CREATE DATABASE "{url.database}"')
            return True
    finally:
        connection.close()


def drop_database(url: URL) -> None:
    """Drop the database named in ``url`` if it exists, closing its sessions (scratch and test databases)."""
    from .schedule import remove_watch

    remove_watch(url)
    connection = connect_raw(url.set(database="postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        connection.close()


def fresh_database(url: URL) -> None:
    """An empty, migrated database at ``url``, whatever was there before."""
    drop_database(url)
    ensure_database(url)
    apply_migrations(url)


def apply_migrations(url: URL) -> list[str]:
    """Apply what is pending, each file in its own transaction; returns the names applied."""
    connection = connect_raw(url)
    applied_now: list[str] = []
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(sql_file("_migrations_table.sql"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, kind, sha256 FROM workbench_meta.migrations")
            applied = {name: (kind, digest) for name, kind, digest in cursor.fetchall()}
        for migration in discover():
            previous = applied.get(migration.name)
            if previous and migration.kind == "versioned":
                if previous[1] != migration.sha256:
                    raise MigrationError(f"{migration.name} was changed after it was applied; add a new "
                                         "V### migration instead of editing an applied one")
                continue
            if previous and previous[1] == migration.sha256:
                continue
            try:
                with connection, connection.cursor() as cursor:
                    cursor.execute(migration.path.read_text())
                    cursor.execute("RESET ROLE")
                    cursor.execute(
                        "INSERT INTO workbench_meta.migrations (name, kind, sha256) VALUES (%s, %s, %s) "
                        "ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256, applied_at = now()",
                        (migration.name, migration.kind, migration.sha256))
            except psycopg2.Error as exc:
                raise MigrationError(f"{migration.name} failed: {exc.pgerror or exc}") from None
            applied_now.append(migration.name)
    finally:
        connection.close()
    return applied_now


def store_profile(url: URL, profile: Profile) -> bool:
    """Load the agency profile into the database; True when it changed."""
    connection = connect_raw(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(sql_file("queries/store_profile.sql"),
                           {"key": profile.key, "profile": json.dumps(profile.data), "sha256": profile.sha256})
            changed = cursor.rowcount > 0
            questions = [dataclasses.asdict(q) for q in training.build_questions(profile)]
            cursor.execute(sql_file("queries/store_training_questions.sql"),
                           {"questions": json.dumps(questions), "version": training.quiz_version(profile)})
            cursor.execute("SELECT alpr.apply_all_login_limits()")  # the profile's limits on every login
            return changed
    finally:
        connection.close()
