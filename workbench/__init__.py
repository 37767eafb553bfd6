"""ALPR Investigative Workbench: audited partial-plate and canvass search, maps, footage recognition.

Public names load on first use, so ``import workbench.recognition.train`` needs neither the database
stack nor the maps (training runs on machines that have only torch and OpenCV).
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import (
    AccessDenied,
    AccessExpired,
    AccountDeactivated,
    ApprovalRequired,
    DatabaseUnavailable,
    FootageError,
    InvalidArea,
    InvalidCaseNumber,
    InvalidJustification,
    InvalidPattern,
    InvalidPurpose,
    InvalidQuery,
    InvalidTimeWindow,
    ModelWeightsError,
    NotAuthorized,
    TrainingRequired,
    WorkbenchError,
)

_LAZY = {"CaseAccess": "access", "Scene": "access", "Workbench": "access", "connect": "access",
         "load_settings": "settings"}

__all__ = ["AccessDenied", "AccessExpired", "AccountDeactivated", "ApprovalRequired", "CaseAccess", "DatabaseUnavailable", "FootageError",
           "InvalidArea", "InvalidCaseNumber", "InvalidJustification", "InvalidPattern", "InvalidPurpose",
           "InvalidQuery", "InvalidTimeWindow", "ModelWeightsError", "NotAuthorized", "Scene", "TrainingRequired",
           "Workbench", "WorkbenchError", "connect", "load_settings"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name == "access":
        return importlib.import_module(".access", __name__)
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")
