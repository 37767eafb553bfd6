"""Typed client over the database's audited ``api`` functions (the only door to ALPR data)."""

from .client import CaseAccess, Workbench, connect
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

__all__ = ["AccessGrant", "CanvassResult", "CaseAccess", "ChainCheck", "HitsResult", "IngestResult", "PlateSearchResult", "ReadsResult", "Scene",
           "SightingsResult", "Workbench", "connect"]
