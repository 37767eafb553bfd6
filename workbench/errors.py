"""The workbench's error types: one base, specific subclasses, messages that say how to fix the problem."""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base of every error the workbench raises on purpose."""


class ConfigurationError(WorkbenchError):
    """A setting or a policy profile is missing or invalid."""


class DatabaseUnavailable(WorkbenchError):
    """The PostGIS server cannot be reached."""


class MigrationError(WorkbenchError):
    """A schema migration failed or the applied history does not match the files."""


class SetupError(WorkbenchError):
    """The embedded cluster or a system package could not be set up."""


class AccessDenied(WorkbenchError):
    """The database refused access; ``reason`` carries its code, ``audit_id`` the audit record."""

    def __init__(self, message: str, *, reason: str = "denied", audit_id: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.audit_id = audit_id


class InvalidCaseNumber(AccessDenied):
    """The case number does not match the agency's format or is not in the case registry."""


class InvalidPurpose(AccessDenied):
    """The purpose is not an authorized one, or is prohibited."""


class InvalidJustification(AccessDenied):
    """The justification is missing, too short or boilerplate."""


class TrainingRequired(AccessDenied):
    """Training (initial, refresher or reorientation) is missing or stale."""


class AccountDeactivated(AccessDenied):
    """The account is deactivated; the attempt was flagged for Professional Standards review."""


class NotAuthorized(AccessDenied):
    """The user's role or authorization does not allow this call."""


class ApprovalRequired(AccessDenied):
    """The query's scope is above the profile's thresholds: a supervisor must approve it before it runs."""


class AccessExpired(AccessDenied):
    """The access session has expired or belongs to another login."""


class InvalidQuery(AccessDenied):
    """A query parameter was refused by the database (and the refusal audited)."""


class InvalidPattern(InvalidQuery):
    """A partial-plate pattern is malformed."""


class InvalidArea(InvalidQuery):
    """Coordinates, radius or polygon are out of range or malformed."""


class InvalidTimeWindow(InvalidQuery):
    """A time window is reversed, unbounded or longer than the profile allows."""


class FootageError(WorkbenchError):
    """A footage file is missing, corrupt, unsupported or outside the upload folder."""


class ModelWeightsError(WorkbenchError):
    """Model weights are missing or not loadable."""


class FootageRefused(InvalidQuery, FootageError):
    """The database refused to save footage reads (unreviewed, malformed, bad location); nothing was saved."""


class BudgetReached(ApprovalRequired):
    """The login's budget of distinct reads or plates (per day or per case) would be passed: narrow the query,
    or a supervisor approves more under the case."""


class OutcomeUnknown(DatabaseUnavailable):
    """The server went away after a call that changes something was sent: it may have been recorded."""
