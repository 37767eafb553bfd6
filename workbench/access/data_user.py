"""What a data user (crime analyst, investigator) does under an open case: each method is one audited call,
and its rows arrive only after the audit record that covers them has committed."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import math
import warnings
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidQuery, OutcomeUnknown
from ..plates import assumed_characters, parse_pattern
from .core import Delivery, Recorded, as_json, raise_for
from .results import (
    AccessGrant,
    AssociatesResult,
    CanvassResult,
    HitsResult,
    IngestResult,
    PlateSearchResult,
    Scene,
    SightingsResult,
    chance_words,
    reads_frame,
)
from .times import agency_instant

if TYPE_CHECKING:
    from .client import Workbench


@dataclass(frozen=True)
class ApprovalRequest:
    """A request a supervisor decides in their own session."""

    approval_id: int
    audit_id: int


@dataclass(frozen=True)
class LegalHoldRequest:
    """A hold asked for under the case: it protects its reads from the purge once a supervisor approves it."""

    hold_id: int
    reads: int
    status: str
    audit_id: int


@dataclass(frozen=True)
class ExportRecord:
    """A file written for the case (or another agency) after its export was audited."""

    path: Path
    sha256: str
    rows: int
    audit_id: int


def _finite_or_text(value: Any) -> Any:
    """JSON has no NaN or infinity: send them as text, so the database refuses them with its reason (audited)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite_or_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_text(item) for item in value]
    return value


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidQuery(f"{name} must be True or False, got {value!r}", reason="invalid_request")
    return value


def _whole(value: Any, name: str, allowed: range) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise InvalidQuery(f"{name} must be a whole number from {allowed.start} to {allowed.stop - 1}, got {value!r}",
                           reason="invalid_request")
    return value


def _codes(values: list[str] | None, upper: bool) -> list[str] | None:
    """State and source codes as the store keeps them (states upper case, sources lower case)."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    return [str(value).strip().upper() if upper else str(value).strip().lower() for value in values]


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

    def _run(self, name: str, /, **params: Any) -> Delivery:
        """An audited call under this access session: its committed answer."""
        return self.workbench._fetch(name, access_id=self.grant.access_id, **params)

    def _change(self, name: str, /, **params: Any) -> Recorded:
        return self.workbench._record(name, access_id=self.grant.access_id, **params)

    def _when(self, value: datetime, notes: list[str]) -> str:
        """An instant for the database: a time without a zone is read in the agency's zone, and said so."""
        instant, assumed = agency_instant(value, self.workbench.time_zone)
        if assumed and not notes:
            notes.append(f"times without a time zone were read as {self.workbench.time_zone} (agency time)")
        return instant.isoformat()

    def _export_path(self, path: Path) -> Path:
        """A bare file name goes to this case's folder under WORKBENCH_HOME (exports/<case>/), not the notebook's."""
        if path.is_absolute() or path.parent != Path("."):
            return path
        folder = self.workbench.settings.home / "exports" / self.case_number
        folder.mkdir(parents=True, exist_ok=True)
        return folder / path.name

    def _frame(self, rows: list[dict[str, Any]]):
        return reads_frame(rows, self.workbench.time_zone)

    def _write_export(self, content: bytes, path: Path, format: str, result_ids: list[str], rows: int,
                      sharing_request: int | None = None) -> ExportRecord:
        """Record the export in the audit log (what, how many rows, its sha256, under which case or sharing
        request), and only then write the file."""
        digest = hashlib.sha256(content).hexdigest()
        path = self._export_path(path)
        if sharing_request is not None:
            recorded = self._change("record_sharing_export", request_id=int(sharing_request), result_ids=result_ids,
                                    format=format, rows=rows, sha256=digest)
        else:
            recorded = self._change("record_export", result_ids=result_ids, format=format, rows=rows, sha256=digest,
                                    destination="case_file")
        path.write_bytes(content)
        return ExportRecord(path, digest, rows, recorded.audit_id)

    def search_plates(self, pattern: str, start: datetime, end: datetime, *, lookalike: bool = False,
                      max_mistakes: int = 0, area: dict[str, Any] | None = None, cameras: list[str] | None = None,
                      states: list[str] | None = None, sources: list[str] | None = None, make: str | None = None,
                      color: str | None = None) -> PlateSearchResult:
        """Partial-plate search: ``?`` one unknown, ``*`` any run, ``[8B]`` one of; ranked by distance."""
        notes: list[str] = []
        filters = {key: value for key, value in {"cameras": cameras, "states": _codes(states, True), "sources": _codes(sources, False),
                                                  "make": make, "color": color}.items() if value is not None}
        params = {"pattern": pattern, "start": self._when(start, notes), "end": self._when(end, notes),
                  "lookalike": _flag(lookalike, "lookalike"), "max_mistakes": _whole(max_mistakes, "mistakes", range(3)),
                  "area": as_json(_finite_or_text(area)), "filters": as_json(filters)}
        delivery = self._run("search_plates", **params)
        reads = self._frame(delivery.payload)
        # Which characters the match took as look-alikes or mistakes (same-length matches), for the analyst.
        parsed = parse_pattern(pattern)
        reads["assumed"] = [", ".join(assumed_characters(parsed, plate)) for plate in reads["plate"]]
        return PlateSearchResult("search_plates", reads, delivery.audit_id, delivery.result_id, params,
                                 notes + delivery.warnings, delivery.capped, map_context=self.workbench.map_context)

    def plate_history(self, plate: str, start: datetime, end: datetime, *, lookalike: bool = False) -> SightingsResult:
        """Every sighting of a plate (or its look-alike family) in a window, in time order."""
        notes: list[str] = []
        params = {"plate": plate, "start": self._when(start, notes), "end": self._when(end, notes),
                  "lookalike": _flag(lookalike, "lookalike")}
        delivery = self._run("plate_history", **params)
        return SightingsResult("plate_history", self._frame(delivery.payload), delivery.audit_id, delivery.result_id,
                               params, notes + delivery.warnings, delivery.capped, plate=plate.upper(), map_context=self.workbench.map_context)

    def canvass(self, scenes: list[Scene], min_scenes: int | None = None, **filters: Any) -> CanvassResult:
        """Reads near each scene in its window, and the vehicles seen at ``min_scenes`` or more of them."""
        import pandas as pd

        notes: list[str] = []
        min_scenes = min_scenes if min_scenes is not None else (2 if len(scenes) > 1 else 1)
        for key in ("states", "sources"):
            if key in filters:
                filters[key] = _codes(filters[key], key == "states")
        scene_json = [dict(scene.to_json(), **{"from": self._when(scene.start, notes), "to": self._when(scene.end, notes)})
                      for scene in scenes]
        params = {"scenes": json.dumps(_finite_or_text(scene_json)), "min_scenes": _whole(min_scenes, "min_scenes", range(1, 101)),
                  "filters": json.dumps(filters)}
        delivery = self._run("canvass", **params)
        common = pd.DataFrame(delivery.payload["common"], columns=["plate", "scene_count", "scenes", "reads"])
        return CanvassResult("canvass", self._frame(delivery.payload["reads"]), delivery.audit_id, delivery.result_id,
                             params, notes + delivery.warnings, delivery.capped,
                             scenes=list(scenes), common=common, map_context=self.workbench.map_context)

    def associates(self, plate: str, start: datetime, end: datetime, within: timedelta = timedelta(minutes=2),
                   min_places: int = 2) -> AssociatesResult:
        """Plates read within ``within`` of ``plate``'s reads at the same or adjacent cameras, at ``min_places``
        cameras or more, ranked by how unlikely chance makes it (pattern-of-life work: only for the profile's
        associate purposes, a supervisor's approval above its window; the associates are in the audit row)."""
        import pandas as pd

        notes: list[str] = []
        if not isinstance(within, timedelta) or not timedelta(seconds=1) <= within <= timedelta(hours=1):
            raise InvalidQuery(f"within is a timedelta of 1 second to 1 hour, got {within!r}", reason="invalid_interval")
        params = {"plate": plate, "start": self._when(start, notes), "end": self._when(end, notes),
                  "within_seconds": int(within.total_seconds()), "min_places": _whole(min_places, "min_places", range(1, 21))}
        delivery = self._run("associates", **params)
        rows = delivery.payload["associates"]
        ranking = pd.DataFrame([{
            "plate": row["plate"], "co_occurrences": row["co_occurrences"], "cameras": row["cameras"],
            "days": row["days"], "expected_by_chance": row["expected_by_chance"], "chance": row["chance"],
            "why": (f"seen with the target {row['co_occurrences']} times at {row['cameras']} cameras on {row['days']} "
                    f"days; by chance {chance_words(float(row['expected_by_chance']))}")} for row in rows],
            columns=list(AssociatesResult.COLUMNS))
        shared = [{"read_id": pair["read_id"], "plate": row["plate"], "read_at": pair["read_at"],
                   "camera_id": pair["camera_id"], "lat": pair["lat"], "lon": pair["lon"],
                   "target_read_id": pair["target_read_id"], "target_at": pair["target_at"],
                   "target_camera_id": pair["target_camera_id"], "target_lat": pair["target_lat"],
                   "target_lon": pair["target_lon"], "seconds_apart": pair["seconds_apart"]}
                  for row in rows for pair in row["pairs"]]
        reads = self._frame(shared)
        if not reads.empty:
            reads["target_at"] = pd.to_datetime(reads["target_at"], utc=True, format="ISO8601").dt.tz_convert(
                self.workbench.time_zone)
        return AssociatesResult("associates", reads, delivery.audit_id, delivery.result_id, params,
                                notes + delivery.warnings, delivery.capped, map_context=self.workbench.map_context,
                                plate=params["plate"], associates=ranking,
                                target_reads=int(delivery.payload.get("target_reads", 0)))

    def hits(self, start: datetime, end: datetime) -> HitsResult:
        """Hot-list hits on reads in a window; each is to be verified through CLETS/NCIC and its image first."""
        notes: list[str] = []
        params = {"start": self._when(start, notes), "end": self._when(end, notes)}
        delivery = self._run("hits", **params)
        reads = self._frame(delivery.payload)
        for column in HitsResult.HIT_COLUMNS:  # present even when there are no hits
            if column not in reads:
                reads[column] = None
        return HitsResult("hits", reads, delivery.audit_id, delivery.result_id, params, notes + delivery.warnings,
                          delivery.capped, map_context=self.workbench.map_context)

    def verify_hit(self, hit_id: int, confirmed: bool, note: str) -> Recorded:
        """Record a person's check of a hit (image compared, CLETS/NCIC queried) and its outcome."""
        return self._change("verify_hit", hit_id=int(hit_id), confirmed=_flag(confirmed, "confirmed"), note=note)

    def register_plate(self, plate: str, reason: str, expires_at: datetime, state: str | None = None) -> Recorded:
        """Register a plate under this case for follow-up: its later reads become hits until ``expires_at``."""
        return self._change("register_plate", plate=plate, state=state, reason=reason,
                            expires_at=self._when(expires_at, []))

    def save_footage_reads(self, review: Any, progress: bool = True) -> IngestResult:
        """Save the reads a person confirmed or corrected (a ``recognition.Review``) under this case: the footage
        file is registered and uploaded into the evidence store first (the database checks its sha256), then
        the reads, with their crops, as source 'footage', in one audited transaction; hot-list matches come back
        at once. Saving the same review again returns the first answer; a later review saves only new reads."""
        import pandas as pd

        footage, reads = review.payload()
        footage_id = self._store_footage(review.reads.footage, footage, progress)
        call = {"footage_id": footage_id, "reads": json.dumps(reads)}
        try:
            delivery = self._run("ingest_footage_reads", **call)
        except OutcomeUnknown:
            # The connection dropped while the ingest ran: it may be saved. The same ingest again is answered
            # from the first one if it committed, and saves it if it did not.
            warnings.warn("lost the database while saving the footage reads; they may already be saved: checking",
                          stacklevel=2)
            delivery = self._run("ingest_footage_reads", **call)
        payload = delivery.payload
        hits = pd.DataFrame(payload["hits"], columns=["read_id", "plate", "listed_plate", "match_kind", "reason",
                                                      "list", "warning"])
        return IngestResult(list(payload["read_ids"]), payload["camera_id"], hits, delivery.audit_id, delivery.warnings,
                            int(payload["footage_id"]), int(payload.get("merged", 0)))

    def _store_footage(self, info: Any, footage: dict[str, Any], progress: bool) -> int:
        """Register the footage file under this case and upload what the evidence store lacks; its id."""
        from tqdm.auto import tqdm

        registered = self._change("register_footage", meta=json.dumps(footage)).details
        footage_id = int(registered["footage_id"])
        if registered["sealed"]:
            return footage_id
        content, size, _ = info.evidence()
        chunk_bytes, next_chunk = int(registered["chunk_bytes"]), int(registered["next_chunk"])
        bar = tqdm(total=size, initial=min(size, next_chunk * chunk_bytes), unit="B", unit_scale=True,
                   desc="footage into the evidence store", disable=not progress)
        with (io.BytesIO(content) if isinstance(content, bytes) else Path(content).open("rb")) as source:
            source.seek(next_chunk * chunk_bytes)
            for seq in itertools.count(next_chunk):
                piece = source.read(chunk_bytes)
                if not piece:
                    break
                row = self.workbench._call("upload_footage_chunk", access_id=self.grant.access_id,
                                           footage_id=footage_id, seq=seq, content=piece)[0]
                raise_for(row)
                bar.update(len(piece))
        bar.close()
        self._change("seal_footage", footage_id=footage_id)
        return footage_id

    def request_scope_approval(self, function: str, reason: str, *, area_km2: float | None = None,
                               window_hours: float | None = None, plates: int | None = None,
                               reads: int | None = None, details: dict[str, Any] | None = None) -> ApprovalRequest:
        """Ask a supervisor beforehand for what the profile lets run only with approval: a ``search_plates`` or
        ``canvass`` above the area / window thresholds (or a pattern matching more than ``plates``), more of the
        ``budget`` under this case (``reads``, ``plates``), or a ``search_deleted``. Once approved, it runs
        under this case for the approval's days."""
        recorded = self._change("request_scope_approval", function=function, reason=reason,
                                area_km2=None if area_km2 is None else float(area_km2),
                                window_hours=None if window_hours is None else float(window_hours),
                                plates=None if plates is None else int(plates), reads=None if reads is None else int(reads),
                                details=json.dumps(details or {}, default=str))
        return ApprovalRequest(int(recorded.details["approval_id"]), recorded.audit_id)

    def request_legal_hold(self, plate: str, start: datetime, end: datetime, reason: str, contact: str) -> LegalHoldRequest:
        """Ask to hold a vehicle's reads in a window as evidence under this case: once a supervisor approves it
        (``decide_legal_hold``), they are never purged while the hold lasts."""
        recorded = self._change("legal_hold_request", plate=plate, start=self._when(start, []),
                                end=self._when(end, []), reason=reason, contact=contact)
        details = recorded.details
        return LegalHoldRequest(int(details["hold_id"]), int(details["reads"]), details["status"], recorded.audit_id)

    def evidence_export(self, hold_id: int, path: str | Path) -> ExportRecord:
        """A zip for booking into evidence: the held reads (CSV), each image, and a manifest with the sha256 of
        every file. Audited as an export before the file is written."""
        import pandas as pd

        delivery = self._run("legal_hold_reads", hold_id=int(hold_id))
        files: dict[str, bytes] = {}
        reads = []
        for read in delivery.payload["reads"]:
            image = read.pop("image_base64", None)
            if image:
                files[f"images/read_{read['read_id']}.jpg"] = base64.b64decode(image)
            reads.append(read)
        files["reads.csv"] = pd.DataFrame(reads).to_csv(index=False).encode()
        manifest = {"hold": delivery.payload["hold"], "exported_by": self.workbench.whoami()["login"],
                    "audit_id": delivery.audit_id, "files": {name: hashlib.sha256(data).hexdigest()
                                                             for name, data in sorted(files.items())}}
        files["manifest.json"] = json.dumps(manifest, indent=2, default=str).encode()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
        return self._write_export(buffer.getvalue(), Path(path), "zip", [delivery.result_id], len(reads))

    def search_deleted(self, approval_id: int) -> SightingsResult:
        """Reads of a plate including logically deleted ones (administrators only): exactly the plate, window,
        qualifying category (or court order) a supervisor approved beforehand
        (``request_scope_approval("search_deleted", ..., details={plate, from, to, category, court_order})``);
        flagged for the supervisor's review."""
        delivery = self._run("search_deleted", approval_id=int(approval_id))
        frame = self._frame(delivery.payload)
        plate = str(frame["plate"].iloc[0]) if len(frame) else ""
        return SightingsResult("search_deleted", frame, delivery.audit_id, delivery.result_id,
                               {"approval_id": int(approval_id)}, delivery.warnings, delivery.capped, plate=plate, map_context=self.workbench.map_context)

    def read_image(self, read_id: int) -> bytes:
        """The plate image of a read (an audited call of its own)."""
        return base64.b64decode(self._run("read_image", read_id=int(read_id)).payload["content_base64"])

    def export(self, result: Any, path: str | Path, format: str | None = None,
               sharing_request: int | None = None) -> ExportRecord:
        """Write a result for the case file (csv, geojson, or html map); the export is audited before it is written.
        A bare file name is written under ``WORKBENCH_HOME/exports/<case>/``.
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


__all__ = ["ApprovalRequest", "CaseAccess", "ExportRecord", "LegalHoldRequest"]
