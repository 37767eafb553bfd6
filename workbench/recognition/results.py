"""The typed result of running recognition on footage: one entry per physical plate (track)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from .sources import FootageInfo


@dataclass(frozen=True)
class CameraPlacement:
    """Where the footage was taken and when it started, as the analyst states it."""

    lat: float
    lon: float
    start: datetime  # the footage clock at frame 0, timezone-aware
    heading_deg: float | None = None
    clock_offset_s: float = 0.0  # add to the footage clock to get true time (a DVR running 90 s slow: +90)
    label: str = ""

    def __post_init__(self) -> None:
        from ..errors import FootageError

        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise FootageError(f"camera location ({self.lat}, {self.lon}) is not a latitude in [-90, 90] and a "
                               "longitude in [-180, 180]; latitude comes first")
        if self.start.tzinfo is None:
            raise FootageError("give the footage start time with its time zone (e.g. 2026-11-01T14:05:00-07:00)")
        if self.heading_deg is not None and not 0 <= self.heading_deg <= 360:
            raise FootageError(f"heading {self.heading_deg} is not in [0, 360] degrees")


@dataclass
class FootageReads:
    """Plates found in footage. Arrays have one entry per plate (n); boxes are (n, 4) xyxy pixels of the
    best crop in its frame; ``crops`` are those best crops (BGR)."""

    text: np.ndarray  # (n,) str, the voted plate
    confidence: np.ndarray  # (n,) float in [0, 1]
    char_confidence: list[tuple[float, ...]]
    alternatives: list[tuple[tuple[str, float], ...]]
    track_id: np.ndarray  # (n,) int
    first_seen_s: np.ndarray  # (n,) float, seconds into the footage
    last_seen_s: np.ndarray
    looks: np.ndarray  # (n,) int, crops read for the vote
    agreeing: np.ndarray  # (n,) int, looks that read exactly the voted text
    box: np.ndarray  # (n, 4) float
    frame_index: np.ndarray  # (n,) int, frame of the best crop
    frame_source: list[str]
    crops: list[np.ndarray]
    footage: FootageInfo | None = None
    camera: CameraPlacement | None = None
    timings: dict[str, float] = field(default_factory=dict)
    cancelled: bool = False
    positions: np.ndarray | None = None  # (n, 3) lat, lon, heading (NaN: none) from a GPS sidecar, else None
    gps_source: str = ""

    def __post_init__(self) -> None:
        n = len(self.text)
        for name in ("confidence", "track_id", "first_seen_s", "last_seen_s", "looks", "agreeing", "frame_index"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries; expected {n} (one per plate)")
        if self.box.shape != (n, 4):
            raise ValueError(f"box must be (n, 4) xyxy; got {self.box.shape}")
        if not (len(self.crops) == len(self.char_confidence) == len(self.alternatives) == len(self.frame_source) == n):
            raise ValueError("crops, char_confidence, alternatives and frame_source need one entry per plate")
        if self.positions is not None and self.positions.shape != (n, 3):
            raise ValueError(f"positions must be (n, 3) lat, lon, heading; got {self.positions.shape}")

    @classmethod
    def empty(cls, **metadata) -> FootageReads:
        return cls(np.array([], dtype=object), np.zeros(0), [], [], np.zeros(0, int), np.zeros(0), np.zeros(0),
                   np.zeros(0, int), np.zeros(0, int), np.zeros((0, 4)), np.zeros(0, int), [], [], **metadata)

    def __len__(self) -> int:
        return len(self.text)

    def __getitem__(self, selector) -> FootageReads:
        """Boolean mask or index array: ``reads[reads.confidence > 0.5]``."""
        index = np.arange(len(self))[selector]
        index = np.atleast_1d(index)
        pick = [int(i) for i in index]
        return FootageReads(self.text[index], self.confidence[index], [self.char_confidence[i] for i in pick],
                            [self.alternatives[i] for i in pick], self.track_id[index], self.first_seen_s[index],
                            self.last_seen_s[index], self.looks[index], self.agreeing[index], self.box[index],
                            self.frame_index[index], [self.frame_source[i] for i in pick],
                            [self.crops[i] for i in pick], self.footage, self.camera, dict(self.timings), self.cancelled,
                            None if self.positions is None else self.positions[index], self.gps_source)

    def read_times(self) -> list[datetime | None]:
        """True time of each plate's best look: footage start + offset into the footage + clock correction."""
        if self.camera is None:
            return [None] * len(self)
        return [self.camera.start + timedelta(seconds=float(s) + self.camera.clock_offset_s)
                for s in (self.first_seen_s + self.last_seen_s) / 2]

    def place_on_track(self, track) -> FootageReads:
        """Give each read the position (and heading) the camera had at its time on a GPS track."""
        times = self.read_times()
        middle = (self.first_seen_s + self.last_seen_s) / 2
        rows = [track.position_for(float(s), t) for s, t in zip(middle, times, strict=True)]
        self.positions = np.array([[lat, lon, np.nan if heading is None else heading] for lat, lon, heading in rows],
                                  dtype=float).reshape(len(self), 3)
        self.gps_source = track.source
        return self

    def locations(self) -> np.ndarray:
        """(n, 2) lat, lon of each read: its GPS position, or the camera placement."""
        if self.positions is not None:
            return self.positions[:, :2]
        if self.camera is None:
            return np.full((len(self), 2), np.nan)
        return np.tile([self.camera.lat, self.camera.lon], (len(self), 1)).astype(float)

    def to_dataframe(self) -> pd.DataFrame:
        where = self.locations()
        return pd.DataFrame({
            "plate": self.text, "confidence": self.confidence, "looks": self.looks, "agreeing": self.agreeing,
            "first_seen_s": self.first_seen_s, "last_seen_s": self.last_seen_s, "read_at": self.read_times(),
            "lat": where[:, 0], "lon": where[:, 1],
            "track_id": self.track_id, "frame": self.frame_index, "source": self.frame_source,
            # one plain number per character ("0.998 0.871 ..."): a CSV cell, not a Python tuple's repr
            "char_confidence": [" ".join(f"{float(c):.3f}" for c in cc) for cc in self.char_confidence],
            "alternatives": ["".join(alt or "-" for alt, _ in alts) for alts in self.alternatives],
            "x1": self.box[:, 0], "y1": self.box[:, 1], "x2": self.box[:, 2], "y2": self.box[:, 3],
        })
