"""The shared core of the client: one call of a named api statement, refusals turned into specific errors,
and audited answers fetched only after the call that parked them has committed.

A data call returns a handle and nothing else (no count, no message): everything that depends on ALPR data
comes back through ``api.fetch_result``, which the database answers only once the audit row is committed.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from typing import Any

import psycopg2
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from .. import db
from ..errors import (
    AccessDenied,
    AccessExpired,
    AccountDeactivated,
    ApprovalRequired,
    BudgetReached,
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
    OutcomeUnknown,
    TrainingRequired,
    WorkbenchError,
)
from ..settings import Settings
from ._statements import statement

REASON_ERRORS: dict[str, type[AccessDenied]] = {
    "invalid_case_number": InvalidCaseNumber, "case_not_found": InvalidCaseNumber, "case_closed": InvalidCaseNumber,
    "not_assigned_to_case": NotAuthorized, "unknown_purpose": InvalidPurpose, "prohibited_purpose": InvalidPurpose,
    "vague_justification": InvalidJustification, "justification_too_long": InvalidJustification,
    "invalid_justification": InvalidJustification,
    "training_required": TrainingRequired, "training_expired": TrainingRequired,
    "reorientation_required": TrainingRequired, "training_refused": TrainingRequired,
    "account_deactivated": AccountDeactivated,
    "unknown_user": NotAuthorized, "role_not_authorized": NotAuthorized, "no_supervisor_authorization": NotAuthorized,
    "unknown_access": AccessExpired, "access_not_yours": AccessExpired, "access_expired": AccessExpired,
    "unknown_result": AccessExpired,
    "invalid_pattern": InvalidPattern, "pattern_too_broad": InvalidPattern, "invalid_area": InvalidArea,
    "invalid_scene": InvalidArea, "invalid_window": InvalidTimeWindow, "invalid_filter": InvalidQuery,
    "invalid_plate": InvalidQuery, "unknown_read": InvalidQuery, "no_image": InvalidQuery, "invalid_export": InvalidQuery,
    "export_destination_refused": NotAuthorized,
    "invalid_verification": InvalidQuery, "unknown_hit": InvalidQuery, "refused": InvalidQuery, "busy": InvalidQuery,
    "sharing_not_approved": NotAuthorized, "invalid_footage": FootageRefused,
    "approval_required": ApprovalRequired, "budget_reached": BudgetReached, "invalid_request": InvalidQuery,
    "invalid_name": InvalidQuery, "invalid_kind": InvalidQuery, "conflict": InvalidQuery, "invalid_token": InvalidQuery,
    "unknown_source": InvalidQuery, "invalid_camera": InvalidQuery, "outside_jurisdiction": InvalidArea,
    "invalid_heading": InvalidQuery, "invalid_hash": InvalidQuery, "unknown_import": InvalidQuery,
    "already_finished": InvalidQuery, "bad_token": NotAuthorized, "invalid_batch": InvalidQuery,
}


@dataclass(frozen=True)
class Delivery:
    """A committed, audited answer: its rows (``payload``), count, warnings and, when the profile's row limit
    cut it, what was cut (``capped``: shown, total, order, how to narrow)."""

    audit_id: int
    result_id: str
    payload: Any
    row_count: int | None
    message: str | None
    warnings: list[str] = field(default_factory=list)
    capped: dict[str, Any] | None = None


@dataclass(frozen=True)
class Recorded:
    """A change the database recorded (and audited): its message and the values it named."""

    message: str
    audit_id: int
    details: dict[str, Any] = field(default_factory=dict)


def clean_text(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL; replace it so hostile input still reaches (and is audited by) the database."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    return value


def refusal_error(reason: str | None, message: str, audit_id: int | None) -> AccessDenied:
    error = REASON_ERRORS.get(reason or "", AccessDenied)
    return error(f"{message} [audit record {audit_id}]", reason=reason or "denied", audit_id=audit_id)


def raise_for(row: Any) -> None:
    if row.outcome in ("granted", "accepted"):
        return
    raise refusal_error(row.reason_code, row.message, row.audit_id)


def client_info() -> dict[str, str]:
    return {"host": socket.gethostname(), "notebook": os.environ.get("JPY_SESSION_NAME", ""), "pid": str(os.getpid())}


# Statements that only read (their outcome is never in doubt when the connection drops).
_READ_ONLY = frozenset({"fetch_result", "whoami", "policy_summary", "sample_info", "cameras", "sensitive_places"})


class Core:
    """One person's connection: every call runs as their own database login."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._policy: dict[str, Any] | None = None

    def _call(self, name: str, /, **params: Any) -> list[Any]:
        """Run one named api statement in autocommit; refusals are returned by the database, not raised."""
        sent = False
        try:
            with self.engine.connect() as connection:
                sent = True
                rows = connection.execute(statement(name), {k: clean_text(v) for k, v in params.items()}).fetchall()
                connection.commit()
            return rows
        except (OperationalError, InterfaceError, psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            # psycopg2's own: a pooled connection whose reset fails on return, after the call (its commit) ran
            self._lost(name, exc, sent)
        except DBAPIError as exc:
            if exc.connection_invalidated:
                self._lost(name, exc, sent)
            message = getattr(exc.orig, "pgerror", None) or str(exc.orig)
            if "permission denied" in message:
                raise NotAuthorized(f"{name} is not among the calls this login's role may make (the database "
                                    "refused it: permission denied); ask a supervisor or administrator",
                                    reason="permission_denied") from None
            raise WorkbenchError(f"{name} failed: {message.strip()}") from None
        raise AssertionError("unreachable")

    def _lost(self, name: str, exc: Exception, sent: bool) -> None:
        """The server went away. A statement that was sent may have committed (autocommit) before it did."""
        orig = getattr(exc, "orig", None) or exc
        first_line = (str(orig).strip().splitlines() or ["connection lost"])[0]
        where = db.describe(self.engine.url)
        if sent and name not in _READ_ONLY:
            raise OutcomeUnknown(
                f"lost the database at {where} while {name} ran ({first_line}): it may already be recorded. Check "
                "before repeating it: your last records are in the audit log a supervisor can read, and "
                "`workbench db status` says whether the server is back") from None
        raise DatabaseUnavailable(f"lost the database at {where}: {first_line}; is it running "
                                  "(`workbench db status`)?") from None

    def _fetch(self, name: str, /, **params: Any) -> Delivery:
        """Run an audited call (committed), then fetch its answer: it exists only after the audit commits."""
        row = self._call(name, **params)[0]
        raise_for(row)
        return self._collect(str(row.result_id))

    def _collect(self, result_id: str) -> Delivery:
        answer = self._call("fetch_result", result_id=result_id)[0].payload
        if answer["outcome"] != "granted":
            raise refusal_error(answer.get("reason_code"), answer.get("message") or "refused", answer.get("audit_id"))
        return Delivery(answer["audit_id"], result_id, answer.get("payload"), answer.get("row_count"),
                        answer.get("message"), list(answer.get("warnings") or []), answer.get("capped"))

    def _record(self, name: str, /, **params: Any) -> Recorded:
        """A call that changes something: an administrative answer directly, a data-dependent one fetched."""
        row = self._call(name, **params)[0]
        raise_for(row)
        if row.outcome == "accepted":
            delivery = self._collect(str(row.result_id))
            return Recorded(delivery.message or "", delivery.audit_id, dict(delivery.payload or {}))
        return Recorded(row.message or "", row.audit_id, dict(row.details or {}))

    def _table(self, name: str, /, **params: Any):
        """The rows a function returns directly (registries, no ALPR reads) as a DataFrame."""
        import pandas as pd

        return pd.DataFrame([dict(r._mapping) for r in self._call(name, **params)])

    def _log_frame(self, name: str, /, **params: Any):
        """An audited review's rows as a DataFrame, ``logged_at`` in the agency's time zone."""
        import pandas as pd

        frame = pd.DataFrame(self._fetch(name, **params).payload)
        if not frame.empty:
            frame["logged_at"] = pd.to_datetime(frame["logged_at"], utc=True, format="ISO8601").dt.tz_convert(self.time_zone)
        return frame

    @property
    def policy(self) -> dict[str, Any]:
        if self._policy is None:
            self._policy = self._call("policy_summary")[0].policy
        return self._policy

    @property
    def time_zone(self) -> str:
        """The agency's time zone (profile ``agency.time_zone``): naive times are read in it, tables shown in it."""
        return self.policy["agency"].get("time_zone", "UTC")

    def whoami(self) -> dict[str, Any]:
        return dict(self._call("whoami")[0]._mapping)

    def close(self) -> None:
        self.engine.dispose()


def _without_nul(value: Any) -> Any:
    if isinstance(value, dict):
        return {clean_text(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(item) for item in value]
    return clean_text(value)


def as_json(value: Any) -> str | None:
    """JSON for a jsonb parameter; NUL characters (which jsonb cannot hold) become U+FFFD, so the database still
    receives the text, refuses what is malformed with its reason, and audits it."""
    return None if value is None else json.dumps(_without_nul(value), default=str)
