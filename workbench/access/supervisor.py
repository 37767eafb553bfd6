"""What supervisors (auditors) do: check the audit chain, review the log and its flags, decide approvals
(scope, budget, deleted-data searches, legal holds, sharing), authorize data users, run the reports.
Every review is itself audited, and its rows come only after that record commits."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .core import Core, Recorded
from .results import ChainCheck


class SupervisorCalls(Core):
    def verify_audit_chain(self) -> ChainCheck:
        row = self._call("verify_audit_chain")[0]
        return ChainCheck(row.ok, row.records_checked, row.first_broken_id, row.detail)

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
