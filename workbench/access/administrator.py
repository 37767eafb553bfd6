"""What administrators do: users and logins, deactivation, hot lists, retention, agencies on file, legal-hold
releases and sensitive places. Each call is audited; figures that depend on ALPR data (a retention run's
counts, new hits) come back only after that record commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..hotlists import read_hotlist
from .core import Core, Recorded, as_json


@dataclass(frozen=True)
class HotlistImport:
    added: int
    already_listed: int
    audit_id: int


@dataclass(frozen=True)
class HotlistMatch:
    """New hits recorded for a window: each is a lead to verify through CLETS/NCIC before action."""

    hits: int
    audit_id: int
    message: str


class AdministratorCalls(Core):
    def create_user(self, login: str, full_name: str, role: str, password: str | None = None) -> Recorded:
        return self._record("admin_create_user", login=login, full_name=full_name, role=role, password=password)

    def set_active(self, login: str, active: bool, reason: str) -> Recorded:
        return self._record("admin_set_active", login=login, active=active, reason=reason)

    def import_hotlist(self, name: str, source: str, entries: str | Path | Any) -> HotlistImport:
        """Import a hot list (CSV path or DataFrame: plate, state, reason, source, expires_at); administrators."""
        recorded = self._record("hotlist_import", name=name, source=source, entries=as_json(read_hotlist(entries)))
        return HotlistImport(int(recorded.details["added"]), int(recorded.details["already_listed"]), recorded.audit_id)

    def match_hotlists(self, start: datetime, end: datetime) -> HotlistMatch:
        """Record hits for reads in a window against active hot-list entries (exact and look-alike)."""
        recorded = self._record("hotlist_match", start=start.isoformat(), end=end.isoformat())
        return HotlistMatch(int(recorded.details["hits"]), recorded.audit_id, recorded.message)

    def cancel_hotlist_entry(self, entry_id: int, reason: str) -> Recorded:
        """Cancel a want found in error; who and why are kept, and it stops matching."""
        return self._record("hotlist_cancel", entry_id=int(entry_id), reason=reason)

    def retention_run(self, dry_run: bool = True) -> dict[str, Any]:
        """Apply the profile's retention (administrators): logical deletion, purge, approved legal holds kept.
        With ``dry_run`` only counts. Returns the run's report (also in its audit record, as ``audit_id``)."""
        recorded = self._record("retention_run", dry_run=bool(dry_run))
        return dict(recorded.details, audit_id=recorded.audit_id)

    def record_sharing_agency(self, name: str, agency_type: str, state: str, federal: bool = False,
                              local: bool = True, agreement: str | None = None) -> Recorded:
        """Put an agency on file (administrators): type law_enforcement, prosecutorial, commercial, media, ..."""
        return self._record("sharing_record_agency", name=name, agency_type=agency_type, state=state, federal=federal,
                            local=local, agreement=agreement)

    def release_legal_hold(self, hold_id: int, reason: str) -> Recorded:
        """End a legal hold (administrators); its reads follow the retention periods again."""
        return self._record("legal_hold_release", hold_id=int(hold_id), reason=reason)

    def add_sensitive_place(self, name: str, kind: str, lat: float, lon: float, radius_m: float = 150.0) -> Recorded:
        """Register a place of worship, clinic or protest site (administrators): searches near it are flagged."""
        return self._record("admin_add_sensitive_place", name=name, kind=kind, lat=float(lat), lon=float(lon),
                            radius_m=float(radius_m))
