"""Migrations, the generator, settings, and a dead database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import workbench
from workbench import migrate
from workbench.bulkload import BulkLoader
from workbench.errors import ConfigurationError, DatabaseUnavailable
from workbench.sample.generator import generate_reads, planted_reads, scenarios
from workbench.settings import OPTIONS, load_settings

from .conftest import END

README = Path(__file__).resolve().parent.parent / "README.md"


def test_migrations_reapply_as_a_no_op(admin_url, superuser):
    assert migrate.apply_migrations(admin_url) == []
    with superuser.cursor() as cursor:
        cursor.execute("SELECT name FROM workbench_meta.migrations ORDER BY name")
        assert [row[0] for row in cursor.fetchall()] == sorted(m.name for m in migrate.discover())
        cursor.execute("SELECT extname FROM pg_extension ORDER BY 1")
        assert {"postgis", "pg_trgm", "fuzzystrmatch", "btree_gist"} <= {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'alpr.reads'::regclass")
        assert cursor.fetchone()[0] > 60  # monthly partitions over six years


def test_an_edited_applied_migration_is_refused(admin_url, tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "sql"
    shutil.copytree(migrate.SQL_DIR, copy)
    (copy / "V001__roles_and_extensions.sql").write_text("-- edited\n")
    monkeypatch.setattr(migrate, "SQL_DIR", copy)
    with pytest.raises(workbench.errors.MigrationError, match="changed after it was applied"):
        migrate.apply_migrations(admin_url)


def test_generator_is_deterministic_for_a_seed():
    first = next(generate_reads(5000, seed=3, end=END))
    again = next(generate_reads(5000, seed=3, end=END))
    other = next(generate_reads(5000, seed=4, end=END))
    assert first.equals(again) and not first.equals(other)
    assert (first["read_at"] < END).all() and (first["read_at"] > END.replace(year=END.year - 7)).all()
    assert first["plate"].str.fullmatch(r"[A-Z0-9]{6,8}").all()


def test_planted_scenarios_are_in_the_store(superuser):
    plan = scenarios(END)
    planted = planted_reads(seed=11, end=END)
    with superuser.cursor() as cursor:
        cursor.execute("SELECT plate, count(*) FROM alpr.reads WHERE plate = ANY(%s) GROUP BY plate",
                       ([plan.suspect_plate, *plan.companions, *plan.stolen_plates, plan.held_plate],))
        counts = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM alpr.legal_hold_reads")
        held = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM alpr.reads WHERE read_at < %s - interval '5 years 24 hours 1 minute'", (END,))
        past_purge = cursor.fetchone()[0]
    assert counts[plan.suspect_plate] == (planted["plate"] == plan.suspect_plate).sum()
    assert counts[plan.companions[0]] == counts[plan.companions[1]] == 25
    assert held == 8 and past_purge > 0


def test_sample_load_twice_changes_nothing(admin_url):
    from workbench.policy import load_profile
    from workbench.sample.load import load_sample

    assert load_sample(admin_url, load_profile("lapd"), reads=30_000, seed=11, end=END, progress=False).skipped


def test_dead_database_names_host_and_port_not_password(settings):
    dead = load_settings({"dsn": "postgresql://analyst:s3cret-pw@127.0.0.1:1/alpr"})
    with pytest.raises(DatabaseUnavailable) as raised:
        workbench.connect(settings=dead)
    message = str(raised.value)
    assert "127.0.0.1:1" in message and "s3cret-pw" not in message and "workbench db up" in message


def test_unknown_setting_is_refused():
    with pytest.raises(ConfigurationError, match="unknown setting"):
        load_settings({"colour": "red"})
    with pytest.raises(ConfigurationError, match="WORKBENCH_PG_PORT"):
        load_settings(environ={"WORKBENCH_PG_PORT": "80"})


def test_every_setting_is_documented_in_the_readme():
    readme = README.read_text()
    for option in OPTIONS:
        assert re.search(rf"`{option.env}`", readme), f"{option.env} is not documented in the README"


def test_bulk_load_stages_empty_months_and_recovers_an_interrupted_one(admin_url, superuser):
    end = datetime(2031, 3, 1, tzinfo=UTC)  # months no other test uses
    reads = next(generate_reads(2_000, seed=5, end=end, history_days=40))
    months = sorted(set(reads["read_at"].dt.strftime("%Y-%m")))
    with superuser.cursor() as cursor:
        cursor.execute("SELECT alpr.ensure_partitions(%s, %s)", (end - timedelta(days=45), end))
        # An interrupted earlier load left a staged, unattached month behind.
        cursor.execute("SELECT alpr.bulk_stage_month(%s)", (reads["read_at"].min().date(),))
    loader = BulkLoader(lambda: migrate.connect_raw(admin_url))
    loader.add(reads)
    report = loader.finish()
    assert report.reads == len(reads)
    assert len(report.months_staged) == len(months) and not report.months_direct
    with superuser.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM alpr.reads WHERE read_at >= %s AND read_at < %s",
                       (end - timedelta(days=45), end))
        assert cursor.fetchone()[0] == len(reads)
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'alpr' AND tablename = %s",
                       ("reads_y" + months[0].replace("-", "m"),))
        assert cursor.fetchone()[0] == 5  # primary key, plate, skeleton, camera, space-time
    again = BulkLoader(lambda: migrate.connect_raw(admin_url))
    again.add(reads)
    assert again.finish().months_direct and not again.report.months_staged
    with superuser.cursor() as cursor:
        cursor.execute("DELETE FROM alpr.reads WHERE read_at >= %s AND read_at < %s", (end - timedelta(days=45), end))


def test_every_store_table_belongs_to_the_store_owner(superuser):
    """Partitions made by a superuser loader would escape the owner's grants and revokes."""
    with superuser.cursor() as cursor:
        cursor.execute("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'alpr' "
                       "AND tableowner <> 'alpr_owner'")
        assert cursor.fetchall() == []


def test_every_folder_of_the_package_ships_in_the_wheel():
    """pyproject lists the packages (sql/ ships as workbench.sql): a new folder left off would be missing from an
    installed workbench."""
    import tomllib

    root = Path(__file__).resolve().parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {"workbench." + ".".join(p.relative_to(root / "workbench").parts) if p != root / "workbench" else "workbench"
               for p in [root / "workbench", *(root / "workbench").rglob("*")]
               if p.is_dir() and p.name != "__pycache__" and any(f.is_file() for f in p.iterdir())}
    folders |= {"workbench.sql" + ("." + ".".join(p.relative_to(root / "sql").parts) if p != root / "sql" else "")
                for p in [root / "sql", *(root / "sql").rglob("*")] if p.is_dir() and p.name != "__pycache__"}
    assert folders == listed
