"""The watch, scheduled inside the server: pg_cron runs ``alpr.watch`` in each workbench database every
minute (chainer, session limits, server-log intake every few seconds; checkpoints of the audit chain's head
into ``WORKBENCH_HOME/audit-checkpoints``). Needs pg_cron in shared_preload_libraries (the private cluster
has it) and a superuser admin login; elsewhere ``install_watch`` says what is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy.engine import URL

from .migrate import connect_raw, sql_file

JOB_PREFIX = "workbench-watch-"


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


def remove_watch(url: URL) -> None:
    """Unschedule a database's watch (before the database is dropped)."""
    cron = connect_raw(url.set(database="postgres"))
    cron.autocommit = True
    try:
        with cron.cursor() as cursor:
            cursor.execute("SELECT to_regclass('cron.job') IS NOT NULL")
            if cursor.fetchone()[0]:
                cursor.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = %s",
                               (JOB_PREFIX + url.database,))
    finally:
        cron.close()
