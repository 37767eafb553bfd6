"""Work scheduled inside the server. pg_cron runs ``alpr.watch`` in each workbench database every minute
(chainer, session limits, server-log intake every few seconds; checkpoints of the audit chain's head into
``WORKBENCH_HOME/audit-checkpoints``), and at the profile's times (``[schedule]``) the retention run, hot-list
matching and the stale-transfer check, each audited. Needs pg_cron in shared_preload_libraries (the private
cluster has it) and a superuser admin login; elsewhere ``install_watch`` says what is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy.engine import URL

from .migrate import connect_raw, sql_file

JOB_PREFIX = "workbench-watch-"
# The profile's scheduled jobs: job name prefix, the profile's field with the cron line, the statement.
PROFILE_JOBS = (
    ("workbench-retention-", "retention", "SELECT alpr.scheduled_retention()"),
    ("workbench-hotlists-", "hotlist_matching", "SELECT alpr.scheduled_hotlist_match()"),
    ("workbench-transfers-", "transfer_check", "SELECT alpr.scheduled_transfer_check()"),
)


def checkpoint_folder(home: Path, database: str) -> Path:
    return home / "audit-checkpoints" / database


def _prepare_folder(folder: Path) -> None:
    """The server writes the checkpoints: as root the cluster runs as `postgres`, which must own the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        for part in (folder.parent, folder):
            shutil.chown(part, user="postgres")
        os.chmod(folder, 0o750)


def install_watch(url: URL, home: Path) -> str | None:
    """Schedule the watch for ``url``'s database (idempotent); returns why it could not be, or None."""
    cron = connect_raw(url.set(database="postgres"))
    cron.autocommit = True
    try:
        with cron.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if not cursor.fetchone()[0]:
                return "the admin login is not a superuser: schedule `CALL alpr.watch(55)` every minute yourself"
            cursor.execute("SELECT current_setting('shared_preload_libraries') LIKE '%pg_cron%'")
            if not cursor.fetchone()[0]:
                return "pg_cron is not in shared_preload_libraries: schedule `CALL alpr.watch(55)` every minute yourself"
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
            cursor.execute(sql_file("queries/schedule_watch.sql"), {"job": JOB_PREFIX + url.database,
                                                                     "database": url.database})
            schedule = _profile_schedule(url)
            for prefix, field, command in PROFILE_JOBS:
                cursor.execute(sql_file("queries/schedule_job.sql"), {
                    "job": prefix + url.database, "database": url.database, "schedule": schedule[field],
                    "command": command})
    finally:
        cron.close()
    folder = checkpoint_folder(home, url.database)
    _prepare_folder(folder)
    connection = connect_raw(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("UPDATE alpr.deployment SET checkpoint_dir = %s", (str(folder),))
    finally:
        connection.close()
    return None


def _profile_schedule(url: URL) -> dict:
    connection = connect_raw(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT alpr.policy() -> 'schedule'")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def scheduled_jobs(url: URL) -> list[tuple[str, str, str]]:
    """(job, cron line, command) of the jobs scheduled for ``url``'s database, for doctor."""
    cron = connect_raw(url.set(database="postgres"))
    try:
        with cron, cron.cursor() as cursor:
            cursor.execute("SELECT to_regclass('cron.job') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return []
            cursor.execute("SELECT jobname, schedule, command FROM cron.job WHERE database = %s ORDER BY jobname",
                           (url.database,))
            return list(cursor.fetchall())
    finally:
        cron.close()


def remove_watch(url: URL) -> None:
    """Unschedule a database's jobs (before the database is dropped)."""
    cron = connect_raw(url.set(database="postgres"))
    cron.autocommit = True
    try:
        with cron.cursor() as cursor:
            cursor.execute("SELECT to_regclass('cron.job') IS NOT NULL")
            if cursor.fetchone()[0]:
                cursor.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = ANY (%s)",
                               ([prefix + url.database for prefix in (JOB_PREFIX, *(j[0] for j in PROFILE_JOBS))],))
    finally:
        cron.close()
