"""`workbench sources|cameras|reads|feed|transfers`: an agency's own reads into the store."""

from __future__ import annotations

import argparse
from pathlib import Path

from .files import SOURCE_KINDS
from .formats import FORMATS

LOGIN_HELP = "your login (password: WORKBENCH_PASSWORD or prompt)"


def _login(user: str):
    from ..cli import _login as login

    return login(user)


def _sources_add(args: argparse.Namespace) -> int:
    admin = _login(args.user)
    recorded = admin.register_source(args.name, args.kind, cameras_registered=not args.cameras_by_first_read)
    print(recorded.message)
    if args.feed_token:
        print(f"feed token for {args.name} (shown once; the database keeps only its sha256):\n"
              f"{admin.new_feed_token(args.name)}")
    return 0


def _sources_token(args: argparse.Namespace) -> int:
    token = _login(args.user).new_feed_token(args.name)
    print(f"new feed token for {args.name} (shown once; the old one no longer works):\n{token}")
    return 0


def _cameras_add(args: argparse.Namespace) -> int:
    print(_login(args.user).register_camera(args.source, args.camera_id, args.lat, args.lon, name=args.name,
                                             heading_deg=args.heading).message)
    return 0


def _reads_import(args: argparse.Namespace) -> int:
    client = _login(args.user)
    for path in args.files:
        report = client.import_reads(path, args.source, fmt=args.format, mapping=args.mapping,
                                     source_name=args.source_name, progress=not args.quiet)
        extra = f"; {report.not_reads} messages were not reads (heartbeats, events without a plate)" \
            if report.not_reads else ""
        print(f"{path.name}: {report.message}{extra} [import {report.import_id}, audit record {report.audit_id}]")
        if report.rejected:
            rejects = client.import_rejects(report.import_id, limit=args.show_rejects)
            for reason, count in rejects["reason"].value_counts().items():
                print(f"  rejected {count:>6}  {reason}")
            if rejects.attrs.get("total", 0) > len(rejects):
                print(f"  (the first {len(rejects)} of {rejects.attrs['total']} shown; "
                      f"`workbench reads rejects {report.import_id}` lists them)")
    return 0


def _reads_rejects(args: argparse.Namespace) -> int:
    rejects = _login(args.user).import_rejects(args.import_id, limit=args.limit)
    if args.out:
        rejects.to_csv(args.out, index=False)
        print(f"{len(rejects)} rejected rows -> {args.out}")
    else:
        print(rejects.to_string(index=False) if not rejects.empty else "no rejected rows")
    return 0


def _transfers(args: argparse.Namespace) -> int:
    status = _login(args.user).transfer_status()
    print(status.message)
    stale = status.stale
    if not stale.empty:
        for _, row in stale.iterrows():
            last = row["last_transfer_at"]
            print(f"  STALE {row['what']:<6} {row.get('name') or row.get('camera_id')}: last transfer "
                  f"{'never' if last is None or str(last) == 'NaT' else f'{last:%Y-%m-%d %H:%M}'}")
    return 1 if not stale.empty else 0


def _feed_serve(args: argparse.Namespace) -> int:
    from ..access import connect
    from ..cli import read_password
    from ..settings import load_settings
    from .feed import serve

    password = read_password(args.user)
    connect(user=args.user, password=password).close()  # refuse a wrong login before listening
    spool = args.spool or load_settings().home / "feed-spool"
    print(f"feed receiver on http://{args.host}:{args.port}/v1/openalpr and /v1/frigate (spool {spool})")
    serve(lambda: connect(user=args.user, password=password), spool, host=args.host, port=args.port)
    return 0


def add_commands(commands) -> None:
    sources = commands.add_parser("sources", help="sources of reads: fixed cameras, mobile units, commercial and "
                                  "shared feeds (administrators)").add_subparsers(dest="action", required=True)
    add = sources.add_parser("add", help="register a source")
    add.add_argument("name", help="e.g. north-fixed, patrol-units, vendor-x")
    add.add_argument("--kind", required=True, choices=SOURCE_KINDS)
    add.add_argument("--cameras-by-first-read", action="store_true",
                     help="register a camera at its first read instead of refusing reads of unregistered cameras")
    add.add_argument("--feed-token", action="store_true", help="also make the source's live-feed token")
    add.add_argument("--user", required=True, help=LOGIN_HELP)
    add.set_defaults(func=_sources_add)
    token = sources.add_parser("token", help="a new live-feed token for a source (the old one stops working)")
    token.add_argument("name")
    token.add_argument("--user", required=True, help=LOGIN_HELP)
    token.set_defaults(func=_sources_token)

    cameras = commands.add_parser("cameras", help="cameras of a source (administrators)").add_subparsers(
        dest="action", required=True)
    camera = cameras.add_parser("add", help="register a camera inside the jurisdiction")
    camera.add_argument("source")
    camera.add_argument("camera_id", help="the id the source's exports use")
    camera.add_argument("--lat", type=float, required=True)
    camera.add_argument("--lon", type=float, required=True)
    camera.add_argument("--name")
    camera.add_argument("--heading", type=float, help="0-360 degrees")
    camera.add_argument("--user", required=True, help=LOGIN_HELP)
    camera.set_defaults(func=_cameras_add)

    reads = commands.add_parser("reads", help="import an agency's reads (administrators, feeders)").add_subparsers(
        dest="action", required=True)
    load = reads.add_parser("import", help="import export files: validated, de-duplicated, audited")
    load.add_argument("files", nargs="+", type=Path)
    load.add_argument("--source", required=True, choices=SOURCE_KINDS, help="the kind of source the reads come from")
    load.add_argument("--source-name", help="the registered source (default: the kind, e.g. fixed)")
    load.add_argument("--format", choices=[f for f in FORMATS if f != "mapping"],
                      help="default: by the file (CSV/Parquet: workbench; JSON: openalpr or frigate)")
    load.add_argument("--mapping", help="a TOML mapping of a vendor's CSV (or a shipped one: generic_fixed_camera)")
    load.add_argument("--show-rejects", type=int, default=1000, help="rejected rows to summarize (default 1000)")
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    load.add_argument("--user", required=True, help=LOGIN_HELP)
    load.set_defaults(func=_reads_import)
    rejects = reads.add_parser("rejects", help="the rows an import refused, with their reasons")
    rejects.add_argument("import_id")
    rejects.add_argument("--limit", type=int, default=1000)
    rejects.add_argument("--out", type=Path, help="write them to a CSV")
    rejects.add_argument("--user", required=True, help=LOGIN_HELP)
    rejects.set_defaults(func=_reads_rejects)

    feed = commands.add_parser("feed", help="the live feed's HTTP receiver").add_subparsers(dest="action", required=True)
    serve = feed.add_parser("serve", help="receive OpenALPR/Rekor webhooks and Frigate events (a feeder login)")
    serve.add_argument("--user", required=True, help="the feeder login it writes as (password: WORKBENCH_PASSWORD)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument("--spool", type=Path, help="spool folder (default WORKBENCH_HOME/feed-spool)")
    serve.set_defaults(func=_feed_serve)

    transfers = commands.add_parser("transfers", help="each source's and camera's last transfer; stale ones "
                                    "(administrators, supervisors)")
    transfers.add_argument("--user", required=True, help=LOGIN_HELP)
    transfers.set_defaults(func=_transfers)


def doctor_checks(overview: dict) -> list[tuple[str, bool, str]]:
    """The doctor's lines for transfers, from alpr.transfer_overview() (read as the store's owner)."""
    days = overview.get("max_days_between")
    stale = [s["name"] for s in overview.get("sources", []) if s["stale"]] + \
        [c["camera_id"] for c in overview.get("cameras", []) if c["stale"]]
    shown = ", ".join(stale[:10]) + (f" and {len(stale) - 10} more" if len(stale) > 10 else "")
    return [(f"transfers within {days} days ({len(overview.get('sources', []))} sources, "
             f"{len(overview.get('cameras', []))} cameras)" + (f"; stale: {shown}" if stale else ""), not stale,
             "import the overdue sources' reads (workbench reads import), or retire them; `workbench transfers` lists them")]


__all__ = ["add_commands", "doctor_checks"]
