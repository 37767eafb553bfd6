"""ALPR Investigative Workbench: audited partial-plate and canvass search, maps, footage recognition."""

from .access import CaseAccess, Scene, Workbench, connect
from .errors import (
    AccessDenied,
    AccessExpired,
    AccountDeactivated,
    DatabaseUnavailable,
    FootageError,
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
from .settings import load_settings

__all__ = ["AccessDenied", "AccessExpired", "AccountDeactivated", "CaseAccess", "DatabaseUnavailable", "FootageError",
           "InvalidArea", "InvalidCaseNumber", "InvalidJustification", "InvalidPattern", "InvalidPurpose",
           "InvalidQuery", "InvalidTimeWindow", "NotAuthorized", "Scene", "TrainingRequired", "Workbench",
           "WorkbenchError", "connect", "load_settings"]
