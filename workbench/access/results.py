"""Typed results of audited calls: dataclasses around GeoDataFrames (EPSG:4326)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd

READ_COLUMNS = ["read_id", "read_at", "plate", "plate_raw", "state", "lat", "lon", "camera_id", "source",
                "confidence", "has_image", "vehicle_make", "vehicle_color", "verified"]


@dataclass(frozen=True)
class AccessGrant:
    access_id: str
    case_number: str
    purpose: str
    expires_at: datetime
    audit_id: int


@dataclass(frozen=True)
class Scene:
    """A crime scene for a canvass: a circle (lat, lon, radius_m) or a polygon of (lon, lat) corners."""

    label: str
    start: datetime
    end: datetime
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    polygon: tuple[tuple[float, float], ...] | None = None

    def to_json(self) -> dict[str, Any]:
        if self.polygon is not None:
            area: dict[str, Any] = {"type": "polygon", "coordinates": [list(corner) for corner in self.polygon]}
        else:
            area = {"type": "circle", "lat": self.lat, "lon": self.lon, "radius_m": self.radius_m}
        return {"label": self.label, "area": area, "from": self.start.isoformat(), "to": self.end.isoformat()}


def reads_frame(rows: list[dict[str, Any]], zone: str = "UTC") -> gpd.GeoDataFrame:
    """Reads as a GeoDataFrame (EPSG:4326), ``read_at`` in the agency's time zone ``zone``."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=READ_COLUMNS)
    frame["read_at"] = pd.to_datetime(frame["read_at"], utc=True, format="ISO8601").dt.tz_convert(zone)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")


@dataclass
class ReadsResult:
    """Reads returned by an audited call; ``audit_id`` is the audit record that covers them."""

    kind: str
    reads: gpd.GeoDataFrame
    audit_id: int
    result_id: str
    parameters: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    # Set when the profile's row limit cut the answer: {"shown", "total", "order", "narrow"}.
    capped: dict[str, Any] | None = None
    map_context: Any = None  # the connection's tiles, agency centre and offline layers (maps.MapContext)

    def __len__(self) -> int:
        return len(self.reads)

    def to_dataframe(self) -> pd.DataFrame:
        return pd.DataFrame(self.reads.drop(columns="geometry"))

    @property
    def cap_note(self) -> str | None:
        """What the row limit cut, in words (None when nothing was cut)."""
        if not self.capped:
            return None
        return (f"showing the first {self.capped['shown']:,} of {self.capped.get('total', 0):,} reads "
                f"({self.capped.get('order', 'in answer order')}); narrow it: {self.capped.get('narrow', 'a smaller query')}")

    def map(self, **options):
        """A folium map of these reads (``cameras=wb.cameras()`` adds the camera layer)."""
        from ..maps import result_map
        return result_map(self, **options)


@dataclass
class PlateSearchResult(ReadsResult):
    def plates(self) -> pd.DataFrame:
        """One row per matching plate, best match first."""
        if self.reads.empty:
            return pd.DataFrame(columns=["plate", "distance", "reads", "first_seen", "last_seen", "cameras"])
        grouped = self.reads.groupby("plate").agg(distance=("distance", "min"), reads=("read_id", "count"),
                                                  first_seen=("read_at", "min"), last_seen=("read_at", "max"),
                                                  cameras=("camera_id", "nunique"))
        return grouped.sort_values(["distance", "reads"], ascending=[True, False]).reset_index()


@dataclass
class CanvassResult(ReadsResult):
    scenes: list[Scene] = field(default_factory=list)
    common: pd.DataFrame = field(default_factory=pd.DataFrame)


def chance_words(expected: float) -> str:
    """'about 0.02 times', 'less than 0.001 times': how often chance alone would put a plate there."""
    if expected < 0.001:
        return "less than 0.001 times"
    return f"about {expected:.2g} times"


@dataclass
class AssociatesResult(ReadsResult):
    """Plates read close to a target vehicle in time at the same or adjacent cameras, ranked by how unlikely
    chance makes it (``associates``: one row per plate, with why); ``reads`` are the shared sightings (the
    associate's read beside the target's, ``target_at``, ``seconds_apart``)."""

    plate: str = ""
    associates: pd.DataFrame = field(default_factory=pd.DataFrame)
    target_reads: int = 0

    COLUMNS = ("plate", "co_occurrences", "cameras", "days", "expected_by_chance", "chance", "why")

    def to_dataframe(self) -> pd.DataFrame:
        """The ranking (what an export writes)."""
        return self.associates.copy()

    def sightings_of(self, plate: str) -> pd.DataFrame:
        return pd.DataFrame(self.reads[self.reads["plate"] == plate].drop(columns="geometry"))

    def map(self, associate: str | None = None, **options):
        """The shared sightings of ``associate`` (default: the first ranked) beside the target's: two tracks."""
        from ..maps import associates_map
        return associates_map(self, associate, **options)


@dataclass
class SightingsResult(ReadsResult):
    plate: str = ""

    def summary(self) -> dict[str, Any]:
        if self.reads.empty:
            return {"plate": self.plate, "sightings": 0}
        return {"plate": self.plate, "sightings": len(self.reads), "first_seen": self.reads["read_at"].min(),
                "last_seen": self.reads["read_at"].max(), "cameras": int(self.reads["camera_id"].nunique())}

    def timeline(self, ax=None):
        """A timeline plot of the sightings, one row per camera."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(10, 3))
        frame = self.reads.sort_values("read_at")
        cameras = sorted(frame["camera_id"].unique())
        ax.scatter(frame["read_at"], frame["camera_id"].map({c: i for i, c in enumerate(cameras)}), s=14)
        ax.set_yticks(range(len(cameras)), cameras)
        ax.set_title(f"Sightings of {self.plate}")
        ax.set_xlabel(f"read time ({frame['read_at'].dt.tz})" if len(frame) else "read time")
        return ax


@dataclass
class HitsResult(ReadsResult):
    """Hot-list hits: a hit is a lead, not a fact, until a person verifies it."""

    HIT_COLUMNS = ("hit_id", "match_kind", "listed_plate", "list", "reason", "list_source", "hit_verified_at",
                   "hit_verified_by", "verification_note", "warning")

    def unverified(self) -> pd.DataFrame:
        if self.reads.empty:
            return self.to_dataframe()
        return self.to_dataframe()[self.reads["hit_verified_at"].isna().to_numpy()]


@dataclass(frozen=True)
class IngestResult:
    """Footage reads saved under a case; ``hits`` are hot-list matches to verify before any action."""

    read_ids: list[int]
    camera_id: str
    hits: pd.DataFrame
    audit_id: int
    warnings: list[str]
    footage_id: int | None = None  # the footage file as registered in the evidence store
    merged: int = 0  # reads an earlier review of this footage had saved already (not stored twice)


@dataclass(frozen=True)
class ChainCheck:
    """The audit chain recomputed: ``head`` is its last link (publish it: a checkpoint), ``pending`` records of
    transactions still open, ``checkpoint_ok`` whether an earlier checkpoint is still in the chain unchanged."""

    ok: bool
    records_checked: int
    first_broken_id: int | None
    detail: str
    pending: int = 0
    head: dict[str, Any] | None = None
    checkpoint_ok: bool | None = None
