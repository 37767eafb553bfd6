"""What supervisors (auditors) do: check the audit chain, review the log and its flags, decide approvals
(scope, budget, deleted-data searches, legal holds, sharing), authorize data users, run the reports.
Every review is itself audited, and its rows come only after that record commits."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import NotAuthorized, WorkbenchError
from .core import Core, Recorded
from .results import ChainCheck


def latest_checkpoint(home: Path, database: str) -> dict[str, Any]:
    """The newest checkpoint file of ``database`` under ``home``/audit-checkpoints."""
    files = sorted((home / "audit-checkpoints" / database).glob("*.json"))
    if not files:
        raise WorkbenchError(f"no checkpoint of {database} under {home / 'audit-checkpoints'}: the watch writes one "
                             "every few minutes (`workbench db up` schedules it), or `workbench audit checkpoint`")
    return json.loads(files[-1].read_text())


class SupervisorCalls(Core):
    def verify_audit_chain(self, checkpoint: dict[str, Any] | str | Path | None = None) -> ChainCheck:
        """Recompute the chain; with a checkpoint (a dict, a checkpoint file, or "latest": the newest file under
        WORKBENCH_HOME/audit-checkpoints) also whether the chain still holds it unchanged."""
        if checkpoint == "latest":
            checkpoint = latest_checkpoint(self.settings.home, self.engine.url.database)
        if isinstance(checkpoint, str | Path):
            checkpoint = json.loads(Path(checkpoint).read_text())
        row = self._call("verify_audit_chain", checkpoint=None if checkpoint is None else json.dumps(checkpoint))[0]
        return ChainCheck(row.ok, row.records_checked, row.first_broken_id, row.detail, row.pending or 0, row.head,
                          row.checkpoint_ok)

    def audit_checkpoint(self, folder: Path | None = None) -> dict[str, Any]:
        """The chain's head now; with ``folder`` also written there as a checkpoint file (kept outside the
        database, e.g. on another machine or in the case management system)."""
        answer = self._call("audit_checkpoint")[0].checkpoint
        if answer.pop("outcome") != "granted":
            raise NotAuthorized(f"{answer['message']} [audit record {answer.get('audit_id')}]", reason="role_not_authorized",
                                audit_id=answer.get("audit_id"))
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{answer['database']}-{answer['taken_at'].replace(':', '').replace(' ', 'T')}.json").write_text(
                json.dumps(answer))
        return answer

    def footage_copy(self, footage_id: int, folder: Path) -> Path:
        """A copy of registered footage from the evidence store (to run recognition on it again), its sha256
        checked against the registration; the copy is audited."""
        import hashlib

        first = self._call("footage_content", footage_id=int(footage_id), seq=0)[0]
        if first.sha256 is None:
            raise WorkbenchError(f"no footage {footage_id} in the evidence store")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(first.file_name).name
        digest = hashlib.sha256()
        with path.open("wb") as out:
            for seq in range(first.chunks):
                piece = first.content if seq == 0 else self._call("footage_content", footage_id=int(footage_id),
                                                                   seq=seq)[0].content
                digest.update(piece)
                out.write(piece)
        if digest.hexdigest() != first.sha256:
            path.unlink()
            raise WorkbenchError(f"footage {footage_id} in the store does not match its sha256; report it")
        return path

    def unaudited_statements(self, start: datetime, end: datetime):
        """From the second record (pgAudit's server log): statements of workbench logins with no committed audit
        record beside them (rolled back, refused by the server) and failed logins (supervisors; audited)."""
        return self._log_frame("unaudited_statements", start=start.isoformat(), end=end.isoformat())

    def audit_log(self, start: datetime, end: datetime, **filters: Any):
        """Audit records in a window (supervisors, administrators); filters: user, case_number, purpose, outcome,
        function, plate (a plate or a pattern as typed). The review is itself audited; rows come only after that
        record commits."""
        return self._log_frame("audit_review", start=start.isoformat(), end=end.isoformat(), filters=json.dumps(filters))

    def review_queue(self, start: datetime, end: datetime):
        """Flagged audit records, each flag explained, highest risk first (supervisors; the review is audited)."""
        import pandas as pd

        frame = pd.DataFrame(self._fetch("review_queue", start=start.isoformat(), end=end.isoformat()).payload,
                             columns=["audit_id", "risk", "flags", "why", "db_user", "function_name", "case_number",
                                      "outcome", "logged_at", "signed_off"])
        frame["logged_at"] = pd.to_datetime(frame["logged_at"], utc=True, format="ISO8601").dt.tz_convert(self.time_zone)
        return frame

    def sign_off(self, audit_id: int, flag: str, finding: str) -> Recorded:
        """Record the supervisor's finding on a flagged record (itself audited)."""
        return self._record("review_signoff", audit_id=int(audit_id), flag=flag, finding=finding)

    def proportionality(self, start: datetime, end: datetime):
        """Each search, canvass and plate history of the window beside its user's and the agency's usual scope
        (area, window), with the approval it ran under; largest ratio first (supervisors; audited)."""
        return self._log_frame("proportionality", start=start.isoformat(), end=end.isoformat())

    def scope_approvals(self, pending_only: bool = True):
        """Requests for what runs only with a supervisor's prior approval (supervisors; audited)."""
        import pandas as pd

        return pd.DataFrame(self._fetch("scope_approvals", pending_only=bool(pending_only)).payload)

    def decide_scope_approval(self, approval: Any, approve: bool, note: str, valid_days: int = 7) -> Recorded:
        """A supervisor approves (for ``valid_days``) or refuses another user's request (an ``ApprovalRequest`` or
        its id), with a note."""
        return self._record("decide_scope_approval", approval_id=int(getattr(approval, "approval_id", approval)),
                            approve=bool(approve), note=note, valid_days=int(valid_days))

    def record_authorization(self, login: str, authorization: str) -> Recorded:
        """The supervisor's written authorization of a data user, recorded as given by this login."""
        return self._record("record_authorization", login=login, authorization=authorization)

    def assign_case(self, case_number: str, login: str) -> Recorded:
        return self._record("admin_assign_case", case_number=case_number, login=login)

    def usage_report(self, start: datetime, end: datetime, *, public: bool = False,
                     include_plates: bool = False) -> dict[str, Any]:
        """The figures of an audit, usage or (``public``) transparency report, computed in the database from
        the audit log (supervisors; audited). Plate numbers only with ``include_plates``, never when public."""
        return self._fetch("usage_report", start=start.isoformat(), end=end.isoformat(), public=bool(public),
                           include_plates=bool(include_plates)).payload

    def record_sharing_request(self, agency: str, requester: str, purpose: str) -> int:
        """Record another agency's written request; returns its request id (kept on file)."""
        recorded = self._record("sharing_record_request", agency=agency, requester=requester, purpose=purpose)
        return int(recorded.details["request_id"])

    def decide_sharing(self, request_id: int, approve: bool, reason: str) -> Recorded:
        """A supervisor's decision; the profile's refusals (commercial, federal, out of state...) cannot be overridden."""
        return self._record("sharing_decide", request_id=int(request_id), approve=bool(approve), reason=reason)

    def legal_holds_due(self, days: int = 60):
        """Holds awaiting a supervisor's decision, and approved holds to re-verify within ``days`` (no plates)."""
        import pandas as pd

        return pd.DataFrame(self._fetch("legal_holds_due", days=int(days)).payload,
                            columns=["hold_id", "case_number", "status", "reason", "investigator_contact",
                                     "requested_by", "approved_by", "approved_at", "next_verification_due", "reads"])

    def decide_legal_hold(self, hold: Any, approve: bool, note: str) -> Recorded:
        """Approve (it then protects its reads from the purge) or refuse another person's legal hold (a
        ``LegalHoldRequest`` or its id)."""
        return self._record("decide_legal_hold", hold_id=int(getattr(hold, "hold_id", hold)), approve=bool(approve),
                            note=note)
