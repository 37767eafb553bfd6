"""Typed client over the database's audited ``api`` functions (the only door to ALPR data)."""

from .administrator import HotlistImport, HotlistMatch
from .client import Workbench, connect
from .core import Delivery, Recorded
from .data_user import ApprovalRequest, CaseAccess, ExportRecord, LegalHoldRequest
from .imports import ImportReport, TransferStatus
from .results import (
    AccessGrant,
    CanvassResult,
    ChainCheck,
    HitsResult,
    IngestResult,
    PlateSearchResult,
    ReadsResult,
    Scene,
    SightingsResult,
)
from .trainer import QuizAttempt, QuizOutcome

__all__ = ["AccessGrant", "ApprovalRequest", "CanvassResult", "CaseAccess", "ChainCheck", "Delivery", "ExportRecord",
           "HitsResult", "HotlistImport", "HotlistMatch", "ImportReport", "IngestResult", "LegalHoldRequest", "PlateSearchResult",
           "QuizAttempt", "QuizOutcome", "ReadsResult", "Recorded", "Scene", "SightingsResult", "TransferStatus", "Workbench", "connect"]
