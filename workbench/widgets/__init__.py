"""ipywidgets for JupyterLab: each calls the public API (no SQL, no model code) and shows errors in place."""

from .canvass import Canvass
from .footage import FootageReview
from .gate import AccessGate
from .search import PlateSearch
from .sightings import Sightings

__all__ = ["AccessGate", "Canvass", "FootageReview", "PlateSearch", "Sightings"]
