"""The typed client over the database's audited api functions. It holds no policy of its own:
the database decides, audits, and this client turns its answers into results or specific errors."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from .. import db
from ..errors import (
    AccessDenied,
    AccessExpired,
    AccountDeactivated,
    ApprovalRequired,
    DatabaseUnavailable,
    FootageRefused,
    InvalidArea,
    InvalidCaseNumber,
    InvalidJustification,
    InvalidPattern,
    InvalidPurpose,
    InvalidQuery,
    InvalidTimeWindow,
    NotAuthorized,
    TrainingRequired,
    WorkbenchError,
)
from ..hotlists import read_hotlist
from ..plates import assumed_characters, parse_pattern
from ..settings import Settings, load_settings
from ._statements import statement
from .results import (
    AccessGrant,
    CanvassResult,
    ChainCheck,
    HitsResult,
    IngestResult,
    PlateSearchResult,
    Scene,
    SightingsResult,
    reads_frame,
)

REASON_ERRORS: dict[str, type[AccessDenied]] = {
    "invalid_case_number": InvalidCaseNumber, "case_not_found": InvalidCaseNumber, "case_closed": InvalidCaseNumber,
    "not_assigned_to_case": NotAuthorized, "unknown_purpose": InvalidPurpose, "prohibited_purpose": InvalidPurpose,
    "vague_justification": InvalidJustification, "justification_too_long": InvalidJustification,
    "invalid_justification": InvalidJustification,
    "training_required": TrainingRequired, "training_expired": TrainingRequired,
    "reorientation_required": TrainingRequired, "account_deactivated": AccountDeactivated,
    "unknown_user": NotAuthorized, "role_not_authorized": NotAuthorized, "no_supervisor_authorization": NotAuthorized,
    "unknown_access": AccessExpired, "access_not_yours": AccessExpired, "access_expired": AccessExpired,
    "invalid_pattern": InvalidPattern, "pattern_too_broad": InvalidPattern, "invalid_area": InvalidArea,
    "invalid_scene": InvalidArea, "invalid_window": InvalidTimeWindow, "invalid_filter": InvalidQuery,
    "invalid_plate": InvalidQuery, "unknown_read": InvalidQuery, "no_image": InvalidQuery, "invalid_export": InvalidQuery,
    "invalid_verification": InvalidQuery, "unknown_hit": InvalidQuery, "refused": InvalidQuery,
    "sharing_not_approved": NotAuthorized, "invalid_footage": FootageRefused,
    "approval_required": ApprovalRequired, "invalid_request": InvalidQuery,
}


def _clean(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL; replace it so hostile input still reaches (and is audited by) the database."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    return value


def _raise_for(row: Any) -> None:
    if row.outcome == "granted":
        return
    error = REASON_ERRORS.get(row.reason_code, AccessDenied)
    raise error(f"{row.message} [audit record {row.audit_id}]", reason=row.reason_code, audit_id=row.audit_id)


def _client_info() -> dict[str, str]:
    return {"host": socket.gethostname(), "notebook": os.environ.get("JPY_SESSION_NAME", ""), "pid": str(os.getpid())}


class Workbench:
    """One person's connection: every call runs as their own database login."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._policy: dict[str, Any] | None = None

    def _call(self, name: str, /, **params: Any) -> list[Any]:
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(statement(name), {k: _clean(v) for k, v in params.items()}).fetchall()
                connection.commit()
                return rows
        except OperationalError as exc:
            raise DatabaseUnavailable(f"lost the database at {db.describe(self.engine.url)}: "
                                      f"{str(exc.orig).strip().splitlines()[0]}; is it running (`workbench db status`)?") from None
        except DBAPIError as exc:
            message = getattr(exc.orig, "pgerror", None) or str(exc.orig)
            if "permission denied" in message:
                raise NotAuthorized(f"the database refused {name}: {message.strip()}", reason="permission_denied") from None
            raise WorkbenchError(f"{name} failed: {message.strip()}") from None

    def whoami(self) -> dict[str, Any]:
        return dict(self._call("whoami")[0]._mapping)

    @property
    def policy(self) -> dict[str, Any]:
        if self._policy is None:
            self._policy = self._call("policy_summary")[0].policy
        return self._policy

    def purposes(self) -> dict[str, str]:
        return {key: value["label"] for key, value in self.policy["purposes"]["authorized"].items()}

    def open_case(self, case_number: str, purpose: str, justification: str) -> CaseAccess:
        """Open an audited access session; raises the specific refusal (already audited) when denied."""
        row = self._call("open_access", case_number=case_number, purpose=purpose, justification=justification,
                         client=json.dumps(_client_info()))[0]
        _raise_for(row)
        return CaseAccess(self, AccessGrant(str(row.access_id), row.case_number, row.purpose, row.expires_at,
                                            row.audit_id))

    def sample_end(self) -> datetime | None:
        """The day the loaded sample city ends (its planted scenarios are dated from it), or None."""
        rows = self._call("sample_info")
        return rows[0].end_date if rows else None

    def cameras(self):
        return self._table("cameras")

    def verify_audit_chain(self) -> ChainCheck:
        row = self._call("verify_audit_chain")[0]
        return ChainCheck(row.ok, row.records_checked, row.first_broken_id, row.detail)

    def _admin(self, name: str, /, **params: Any) -> str:
        """A call that changes something and answers with a message (refusals raise, already audited)."""
        row = self._call(name, **params)[0]
        _raise_for(row)
        return row.message

    def _fetch(self, name: str, /, **params: Any) -> tuple[Any, Any]:
        """Run an audited query (committed), then fetch its rows: they exist only after the audit commits."""
        row = self._call(name, **params)[0]
        _raise_for(row)
        return row, self._call("fetch_result", result_id=str(row.result_id))[0].payload

    def _table(self, name: str, /, **params: Any):
        """The rows a function returns directly (registries, no ALPR reads) as a DataFrame."""
        import pandas as pd

        return pd.DataFrame([dict(r._mapping) for r in self._call(name, **params)])

    def _log_frame(self, name: str, /, **params: Any):
        """An audited review's rows as a DataFrame, ``logged_at`` as UTC timestamps."""
        import pandas as pd

        _, payload = self._fetch(name, **params)
        frame = pd.DataFrame(payload)
        if not frame.empty:
            frame["logged_at"] = pd.to_datetime(frame["logged_at"], utc=True, format="ISO8601")
        return frame

    def create_user(self, login: str, full_name: str, role: str, password: str | None = None) -> str:
        return self._admin("admin_create_user", login=login, full_name=full_name, role=role, password=password)

    def record_authorization(self, login: str, authorization: str, authorized_by: str) -> str:
        return self._admin("admin_record_authorization", login=login, authorization=authorization,
                           authorized_by=authorized_by)

    def set_active(self, login: str, active: bool, reason: str) -> str:
        return self._admin("admin_set_active", login=login, active=active, reason=reason)

    def assign_case(self, case_number: str, login: str) -> str:
        return self._admin("admin_assign_case", case_number=case_number, login=login)

    def record_training(self, login: str, course: str, kind: str, version: str, score: float,
                        completed_at: datetime | None = None) -> str:
        return self._admin("record_training", login=login, course=course, kind=kind, version=version, score=score,
                           completed_at=(completed_at or datetime.now().astimezone()).isoformat())

    def audit_log(self, start: datetime, end: datetime, **filters: Any):
        """Audit records in a window (supervisors, administrators); filters: user, case_number, purpose, outcome,
        function, plate (a plate or a pattern as typed). The review is itself audited; rows come only after that record commits."""
        return self._log_frame("audit_review", start=start.isoformat(), end=end.isoformat(), filters=json.dumps(filters))

    def review_queue(self, start: datetime, end: datetime):
        """Flagged audit records, each flag explained, highest risk first (supervisors; the review is audited)."""
        import pandas as pd

        _, payload = self._fetch("review_queue", start=start.isoformat(), end=end.isoformat())
        return pd.DataFrame(payload, columns=["audit_id", "risk", "flags", "why", "db_user", "function_name", "case_number",
                                     "outcome", "logged_at", "signed_off"])

    def sign_off(self, audit_id: int, flag: str, finding: str) -> str:
        """Record the supervisor's finding on a flagged record (itself audited)."""
        return self._admin("review_signoff", audit_id=int(audit_id), flag=flag, finding=finding)

    def proportionality(self, start: datetime, end: datetime):
        """Each search, canvass and plate history of the window beside its user's and the agency's usual scope
        (area, window), with the approval it ran under; largest ratio first (supervisors; audited)."""
        return self._log_frame("proportionality", start=start.isoformat(), end=end.isoformat())

    def scope_approvals(self, pending_only: bool = True):
        """Requests to run a query above the approval thresholds (supervisors; audited)."""
        import pandas as pd

        _, payload = self._fetch("scope_approvals", pending_only=bool(pending_only))
        return pd.DataFrame(payload)

    def decide_scope_approval(self, approval_id: int, approve: bool, note: str, valid_days: int = 7) -> str:
        """A supervisor approves (for ``valid_days``) or refuses another user's request, with a note."""
        return self._admin("decide_scope_approval", approval_id=int(approval_id), approve=bool(approve), note=note,
                           valid_days=int(valid_days))

    def add_sensitive_place(self, name: str, kind: str, lat: float, lon: float, radius_m: float = 150.0) -> str:
        """Register a place of worship, clinic or protest site (administrators): searches near it are flagged."""
        return self._admin("admin_add_sensitive_place", name=name, kind=kind, lat=float(lat), lon=float(lon),
                           radius_m=float(radius_m))

    def sensitive_places(self):
        return self._table("sensitive_places")

    def training_quiz(self):
        """The profile's quiz: questions and choices, no answers (the database grades them)."""
        return self._table("training_quiz")

    def submit_training(self, answers: dict[int, int], kind: str = "initial") -> dict[str, Any]:
        """Submit quiz answers ({question number: choice index}); the database grades them and, on a pass,
        writes the training record the access guard checks. Returns score, pass and each answer explained."""
        outcome = self._call("submit_training", kind=kind,
                             answers=json.dumps({str(int(k)): int(v) for k, v in answers.items()}))[0].outcome
        if outcome["outcome"] != "granted":
            raise NotAuthorized(outcome["message"], reason="training_refused")
        return outcome

    def usage_report(self, start: datetime, end: datetime, *, public: bool = False,
                     include_plates: bool = False) -> dict[str, Any]:
        """The figures of an audit, usage or (``public``) transparency report, computed in the database from
        the audit log (supervisors; audited). Plate numbers only with ``include_plates``, never when public."""
        _, payload = self._fetch("usage_report", start=start.isoformat(), end=end.isoformat(), public=bool(public),
                                 include_plates=bool(include_plates))
        return payload

    def retention_run(self, dry_run: bool = True) -> dict[str, Any]:
        """Apply the profile's retention (administrators): logical deletion, purge, legal holds kept. With
        ``dry_run`` only counts. Returns the run's report (also in its audit record)."""
        return json.loads(self._admin("retention_run", dry_run=bool(dry_run)))

    def record_sharing_agency(self, name: str, agency_type: str, state: str, federal: bool = False,
                              local: bool = True, agreement: str | None = None) -> str:
        """Put an agency on file (administrators): type law_enforcement, prosecutorial, commercial, media, ..."""
        return self._admin("sharing_record_agency", name=name, agency_type=agency_type, state=state, federal=federal,
                           local=local, agreement=agreement)

    def record_sharing_request(self, agency: str, requester: str, purpose: str) -> int:
        """Record another agency's written request; returns its request id (kept on file)."""
        return int(self._admin("sharing_record_request", agency=agency, requester=requester,
                               purpose=purpose).split()[1])

    def decide_sharing(self, request_id: int, approve: bool, reason: str) -> str:
        """A supervisor's decision; the profile's refusals (commercial, federal, out of state...) cannot be overridden."""
        return self._admin("sharing_decide", request_id=int(request_id), approve=bool(approve), reason=reason)

    def release_legal_hold(self, hold_id: int, reason: str) -> str:
        """End a legal hold (administrators); its reads follow the retention periods again."""
        return self._admin("legal_hold_release", hold_id=int(hold_id), reason=reason)

    def legal_holds_due(self, days: int = 60):
        """Active holds whose two-yearly re-verification falls within ``days`` (no plate numbers)."""
        return self._table("legal_holds_due", days=int(days))

    def import_hotlist(self, name: str, source: str, entries: str | Path | Any) -> str:
        """Import a hot list (CSV path or DataFrame: plate, state, reason, source, expires_at); administrators."""
        rows = read_hotlist(entries)
        return self._admin("hotlist_import", name=name, source=source, entries=json.dumps(rows, default=str))

    def match_hotlists(self, start: datetime, end: datetime) -> str:
        """Record hits for reads in a window against active hot-list entries (exact and look-alike)."""
        return self._admin("hotlist_match", start=start.isoformat(), end=end.isoformat())

    def cancel_hotlist_entry(self, entry_id: int, reason: str) -> str:
        """Cancel a want found in error; who and why are kept, and it stops matching."""
        return self._admin("hotlist_cancel", entry_id=int(entry_id), reason=reason)

    def close(self) -> None:
        self.engine.dispose()


class CaseAccess:
    """An open access session under one case and purpose; each method is one audited call."""

    def __init__(self, workbench: Workbench, grant: AccessGrant) -> None:
        self.workbench = workbench
        self.grant = grant

    @property
    def case_number(self) -> str:
        return self.grant.case_number

    def __repr__(self) -> str:
        return f"CaseAccess(case={self.grant.case_number!r}, purpose={self.grant.purpose!r}, expires={self.grant.expires_at})"

    def _run(self, name: str, /, **params: Any) -> tuple[Any, Any]:
        """An audited query under this access session: (its call result, its rows)."""
        return self.workbench._fetch(name, access_id=self.grant.access_id, **params)

    def _change(self, name: str, /, **params: Any) -> str:
        """An audited change under this access session; returns the database's message."""
        return self.workbench._admin(name, access_id=self.grant.access_id, **params)

    def _write_export(self, content: bytes, path: Path, format: str, result_ids: list[str], rows: int,
                      sharing_request: int | None = None) -> Path:
        """Record the export in the audit log (what, how many rows, its sha256, under which case or sharing
        request), and only then write the file."""
        digest = hashlib.sha256(content).hexdigest()
        if sharing_request is not None:
            self._change("record_sharing_export", request_id=int(sharing_request), result_ids=result_ids,
                         format=format, rows=rows, sha256=digest)
        else:
            self._change("record_export", result_ids=result_ids, format=format, rows=rows, sha256=digest,
                         destination=path.name)
        path.write_bytes(content)
        return path

    def search_plates(self, pattern: str, start: datetime, end: datetime, *, lookalike: bool = False,
                      max_mistakes: int = 0, area: dict[str, Any] | None = None, cameras: list[str] | None = None,
                      states: list[str] | None = None, sources: list[str] | None = None, make: str | None = None,
                      color: str | None = None) -> PlateSearchResult:
        """Partial-plate search: ``?`` one unknown, ``*`` any run, ``[8B]`` one of; ranked by distance."""
        filters = {key: value for key, value in {"cameras": cameras, "states": states, "sources": sources,
                                                  "make": make, "color": color}.items() if value is not None}
        params = {"pattern": pattern, "start": start.isoformat(), "end": end.isoformat(), "lookalike": lookalike,
                  "max_mistakes": max_mistakes, "area": json.dumps(area) if area is not None else None,
                  "filters": json.dumps(filters)}
        row, payload = self._run("search_plates", **params)
        reads = reads_frame(payload)
        # Which characters the match took as look-alikes or mistakes (same-length matches), for the analyst.
        parsed = parse_pattern(pattern)
        reads["assumed"] = [", ".join(assumed_characters(parsed, plate)) for plate in reads["plate"]]
        return PlateSearchResult("search_plates", reads, row.audit_id, str(row.result_id), params,
                                 list(row.warnings or []))

    def plate_history(self, plate: str, start: datetime, end: datetime, *, lookalike: bool = False) -> SightingsResult:
        """Every sighting of a plate (or its look-alike family) in a window, in time order."""
        params = {"plate": plate, "start": start.isoformat(), "end": end.isoformat(), "lookalike": lookalike}
        row, payload = self._run("plate_history", **params)
        return SightingsResult("plate_history", reads_frame(payload), row.audit_id, str(row.result_id), params,
                               list(row.warnings or []), plate=plate.upper())

    def canvass(self, scenes: list[Scene], min_scenes: int | None = None, **filters: Any) -> CanvassResult:
        """Reads near each scene in its window, and the vehicles seen at ``min_scenes`` or more of them."""
        import pandas as pd

        min_scenes = min_scenes if min_scenes is not None else (2 if len(scenes) > 1 else 1)
        params = {"scenes": json.dumps([scene.to_json() for scene in scenes]), "min_scenes": min_scenes,
                  "filters": json.dumps(filters)}
        row, payload = self._run("canvass", **params)
        common = pd.DataFrame(payload["common"], columns=["plate", "scene_count", "scenes", "reads"])
        return CanvassResult("canvass", reads_frame(payload["reads"]), row.audit_id, str(row.result_id), params,
                             list(row.warnings or []), scenes=list(scenes), common=common)

    def hits(self, start: datetime, end: datetime) -> HitsResult:
        """Hot-list hits on reads in a window; each is to be verified through CLETS/NCIC and its image first."""
        params = {"start": start.isoformat(), "end": end.isoformat()}
        row, payload = self._run("hits", **params)
        reads = reads_frame(payload)
        for column in HitsResult.HIT_COLUMNS:  # present even when there are no hits
            if column not in reads:
                reads[column] = None
        return HitsResult("hits", reads, row.audit_id, str(row.result_id), params, list(row.warnings or []))

    def verify_hit(self, hit_id: int, confirmed: bool, note: str) -> str:
        """Record a person's check of a hit (image compared, CLETS/NCIC queried) and its outcome."""
        return self._change("verify_hit", hit_id=int(hit_id), confirmed=bool(confirmed), note=note)

    def register_plate(self, plate: str, reason: str, expires_at: datetime, state: str | None = None) -> str:
        """Register a plate under this case for follow-up: its later reads become hits until ``expires_at``."""
        return self._change("register_plate", plate=plate, state=state, reason=reason,
                            expires_at=expires_at.isoformat())

    def save_footage_reads(self, review: Any) -> IngestResult:
        """Save the reads a person confirmed or corrected (a ``recognition.Review``) under this case, with their
        crops, as source 'footage', in one audited transaction; hot-list matches come back at once."""
        import pandas as pd

        footage, reads = review.payload()
        row, payload = self._run("ingest_footage_reads", footage=json.dumps(footage), reads=json.dumps(reads))
        hits = pd.DataFrame(payload["hits"], columns=["read_id", "plate", "listed_plate", "match_kind", "reason",
                                                      "list", "warning"])
        return IngestResult(list(payload["read_ids"]), payload["camera_id"], hits, row.audit_id,
                            list(row.warnings or []))

    def request_scope_approval(self, function: str, reason: str, *, area_km2: float | None = None,
                               window_hours: float | None = None) -> int:
        """Ask a supervisor beforehand for a search or canvass above the profile's thresholds; returns the
        request id. Once approved, queries up to that size run under this case for the approval's days."""
        message = self._change("request_scope_approval", function=function, reason=reason,
                               area_km2=None if area_km2 is None else float(area_km2),
                               window_hours=None if window_hours is None else float(window_hours))
        return int(message.split()[2])

    def request_legal_hold(self, plate: str, start: datetime, end: datetime, reason: str, contact: str,
                           supervisor_approval: str) -> str:
        """Hold a vehicle's reads in a window as evidence under this case: never purged while the hold lasts."""
        return self._change("legal_hold_request", plate=plate, start=start.isoformat(), end=end.isoformat(),
                            reason=reason, contact=contact, supervisor_approval=supervisor_approval)

    def evidence_export(self, hold_id: int, path: str | Path) -> Path:
        """A zip for booking into evidence: the held reads (CSV), each image, and a manifest with the sha256 of
        every file. Audited as an export before the file is written."""
        import zipfile

        import pandas as pd

        row, payload = self._run("legal_hold_reads", hold_id=int(hold_id))
        files: dict[str, bytes] = {}
        reads = []
        for read in payload["reads"]:
            image = read.pop("image_base64", None)
            if image:
                files[f"images/read_{read['read_id']}.jpg"] = base64.b64decode(image)
            reads.append(read)
        files["reads.csv"] = pd.DataFrame(reads).to_csv(index=False).encode()
        manifest = {"hold": payload["hold"], "exported_by": self.workbench.whoami()["login"],
                    "audit_id": row.audit_id, "files": {name: hashlib.sha256(data).hexdigest()
                                                        for name, data in sorted(files.items())}}
        files["manifest.json"] = json.dumps(manifest, indent=2, default=str).encode()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
        return self._write_export(buffer.getvalue(), Path(path), "zip", [str(row.result_id)], len(reads))

    def search_deleted(self, plate: str, start: datetime, end: datetime, *, category: str,
                       commanding_officer_approval: str, court_order: str | None = None) -> SightingsResult:
        """Reads of a plate including logically deleted ones: administrators only, for a qualifying offense
        category of the profile (or ``category='court_order'`` with the order), with the commanding officer's
        approval; flagged for the supervisor's review."""
        params = {"plate": plate, "start": start.isoformat(), "end": end.isoformat(), "category": category,
                  "court_order": court_order, "commanding_officer_approval": commanding_officer_approval}
        row, payload = self._run("search_deleted", **params)
        return SightingsResult("search_deleted", reads_frame(payload), row.audit_id, str(row.result_id), params,
                               list(row.warnings or []), plate=plate.upper())

    def read_image(self, read_id: int) -> bytes:
        """The plate image of a read (an audited call of its own)."""
        _, payload = self._run("read_image", read_id=int(read_id))
        return base64.b64decode(payload["content_base64"])

    def export(self, result: Any, path: str | Path, format: str | None = None,
               sharing_request: int | None = None) -> Path:
        """Write a result for the case file (csv, geojson, or html map); the export is audited before it is written.
        With ``sharing_request`` it is an export for another agency: it needs that approved request and carries
        its id as a watermark."""
        path = Path(path)
        format = (format or path.suffix.lstrip(".")).lower()
        mark = f"Shared under ALPR sharing request {sharing_request}, case {self.case_number}" if sharing_request else ""
        if format == "csv":
            frame = result.to_dataframe()
            content = (frame.assign(shared_under=mark) if mark else frame).to_csv(index=False).encode()
        elif format == "geojson":
            collection = json.loads(result.reads.to_json(default=str))
            if mark:
                collection["watermark"] = mark
            content = json.dumps(collection).encode()
        elif format == "html":
            buffer = io.BytesIO()
            result.map().save(buffer, close_file=False)
            content = buffer.getvalue()
            if mark:
                content = (f'<!-- {mark} --><div style="position:fixed;top:0;right:0;z-index:10000;background:#fff;'
                           f'padding:4px;font:12px sans-serif">{mark}</div>').encode() + content
        else:
            raise InvalidQuery(f"cannot export as {format!r}; use csv, geojson or html", reason="invalid_export")
        return self._write_export(content, path, format, [result.result_id], len(result), sharing_request)


def connect(dsn: str | None = None, *, user: str | None = None, password: str | None = None,
            settings: Settings | None = None) -> Workbench:
    """Connect as a person's own database login (WORKBENCH_DSN, or the private cluster with ``user``)."""
    settings = settings or load_settings({"dsn": dsn} if dsn else None)
    engine = db.make_engine(db.user_url(settings, user, password)).execution_options(isolation_level="AUTOCOMMIT")
    db.check_reachable(engine)
    return Workbench(engine, settings)
