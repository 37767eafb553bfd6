"""What administrators and feeders do with an agency's own reads: register sources and their cameras, give a
source a feed token, import files, feed batches, see what an import refused and the transfers each source
last made. The database validates, de-duplicates, stores and audits; the counts it answers (which depend on
the store) arrive only after that record commits."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg2
from psycopg2 import sql

from ..errors import DatabaseUnavailable, OutcomeUnknown, WorkbenchError
from .core import Core, Recorded, as_json, raise_for


@dataclass(frozen=True)
class ImportReport:
    """One import (a file or a feed batch) as the database recorded it."""

    import_id: str
    source: str
    rows: int
    accepted: int
    rejected: int
    duplicates: int
    hits: int
    audit_id: int
    message: str
    file_name: str | None = None
    file_sha256: str | None = None
    not_reads: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TransferStatus:
    """Each source's and camera's last transfer; ``stale`` ones are past the profile's interval."""

    max_days_between: int
    sources: pd.DataFrame
    cameras: pd.DataFrame
    message: str

    @property
    def stale(self) -> pd.DataFrame:
        frames = [frame[frame["stale"]].assign(what=what) for what, frame in
                  (("source", self.sources), ("camera", self.cameras)) if not frame.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ImportCalls(Core):
    def register_source(self, name: str, kind: str, cameras_registered: bool = True) -> Recorded:
        """A source of reads (administrators): ``kind`` fixed, mobile, commercial or shared. With
        ``cameras_registered`` its reads must name cameras registered for it; otherwise a camera is
        registered at its first read, where that read was."""
        return self._record("register_source", name=name, kind=kind, cameras_registered=bool(cameras_registered))

    def new_feed_token(self, source: str) -> str:
        """A new bearer token for ``source``'s live feed (administrators). Shown once: the database keeps only its
        sha256, and the feed server checks what each request carries against it."""
        token = secrets.token_urlsafe(32)
        self._record("set_source_token", name=source, token_sha256=token_sha256(token))
        return token

    def register_camera(self, source: str, camera_id: str, lat: float, lon: float, name: str | None = None,
                        heading_deg: float | None = None) -> Recorded:
        """A camera of ``source`` (administrators), inside the agency's jurisdiction."""
        return self._record("register_camera", source=source, camera_id=camera_id, name=name, lat=float(lat),
                            lon=float(lon), heading_deg=None if heading_deg is None else float(heading_deg))

    def import_reads(self, path: str | Path, source: str, *, fmt: str | None = None, mapping: str | Path | None = None,
                     source_name: str | None = None, progress: bool = True) -> ImportReport:
        """Import one export file into the store (administrators and feeders); see workbench.ingest.files."""
        from ..ingest.files import import_file

        return import_file(self, Path(path), source, fmt=fmt, mapping=mapping, source_name=source_name,
                           progress=progress)

    def begin_import(self, source: str, fmt: str, file_name: str, file_sha256: str) -> tuple[str, str]:
        """(import id, staging table) of a new file import; COPY its rows, then :meth:`finish_import`."""
        row = self._call("begin_import", source=source, format=fmt, file_name=file_name, file_sha256=file_sha256)[0]
        raise_for(row)
        return str(row.details["import_id"]), str(row.details["staging_table"])

    def copy_staged(self, staging_table: str, csv_payload: bytes, columns: tuple[str, ...]) -> None:
        """COPY rows (CSV, in ``columns`` order) into an open import's staging table (its starter only)."""
        schema, table = staging_table.split(".")
        statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
            sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, columns)))
        connection = self.engine.raw_connection()
        try:
            with connection.cursor() as cursor:
                import io

                cursor.copy_expert(statement, io.BytesIO(csv_payload))
            connection.commit()
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            raise DatabaseUnavailable(f"lost the database while staging the import: {exc}".strip()) from None
        except psycopg2.Error as exc:
            connection.rollback()
            raise WorkbenchError(f"staging the import failed: {(exc.pgerror or str(exc)).strip()}") from None
        finally:
            connection.close()

    def finish_import(self, import_id: str, source: str, not_reads: int = 0) -> ImportReport:
        return self._report(self._record("finish_import", import_id=import_id), source, not_reads)

    def feed_reads(self, token_hash: str, fmt: str, rows: list[dict[str, Any]]) -> ImportReport:
        """Store one live-feed batch for the source whose token hashes to ``token_hash`` (feeders)."""
        return self._report(self._record("feed_reads", token_sha256=token_hash, format=fmt, rows=as_json(rows)), "", 0)

    def _report(self, recorded: Recorded, source: str, not_reads: int) -> ImportReport:
        details = recorded.details
        return ImportReport(str(details["import_id"]), details.get("source") or source, int(details["rows"]),
                            int(details["accepted"]), int(details["rejected"]), int(details["duplicates"]),
                            int(details["hits"]), recorded.audit_id, recorded.message, details.get("file_name"),
                            details.get("file_sha256"), not_reads)

    def abandon_import(self, import_id: str, reason: str) -> Recorded:
        """Close an open import that will not be finished (its staged rows are dropped, nothing is stored)."""
        return self._record("abandon_import", import_id=import_id, reason=reason)

    def import_rejects(self, import_id: str, limit: int = 1000) -> pd.DataFrame:
        """The rows an import refused: line, reason and the row as it came."""
        recorded = self._record("import_rejects", import_id=import_id, limit=int(limit))
        rows = recorded.details.get("rejects") or []
        frame = pd.DataFrame([{"line_no": r["line_no"], "reason": r["reason"], **(r.get("row") or {})} for r in rows])
        frame.attrs["total"] = recorded.details.get("total", len(frame))
        return frame

    def transfer_status(self) -> TransferStatus:
        """Sources and cameras with their last transfer (administrators and supervisors)."""
        recorded = self._record("transfer_status")
        details = recorded.details

        def frame(key: str) -> pd.DataFrame:
            table = pd.DataFrame(details.get(key) or [])
            if not table.empty:
                table["last_transfer_at"] = pd.to_datetime(table["last_transfer_at"], utc=True, format="ISO8601") \
                    .dt.tz_convert(self.time_zone)
            return table

        return TransferStatus(int(details["max_days_between"]), frame("sources"), frame("cameras"), recorded.message)


__all__ = ["ImportCalls", "ImportReport", "OutcomeUnknown", "TransferStatus", "token_sha256"]
