"""ipywidgets for JupyterLab: each calls the public API (no SQL, no model code) and shows errors in place."""

from .associates import Associates
from .audit import AuditReview
from .canvass import Canvass
from .footage import FootageReview
from .gate import AccessGate
from .search import PlateSearch
from .sightings import Sightings
from .training import TrainingQuiz

__all__ = ["AccessGate", "Associates", "AuditReview", "Canvass", "FootageReview", "PlateSearch", "Sightings", "TrainingQuiz"]
