"""GPS sidecars of moving cameras: a GPX track, or a dash-cam / drone SRT subtitle file with a position
per second. Each read then gets the position the camera had when it saw the plate, instead of one
location for the whole clip.

GPX points carry true (UTC) times, so they are matched on the read's corrected time; SRT entries are
keyed by their subtitle timecode, i.e. seconds into the footage, which needs no clock at all.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import FootageError

SIDECAR_SUFFIXES = (".gpx", ".srt")
_TIMECODE = re.compile(r"(\d+):(\d{2}):(\d{2})[,.](\d{1,3})\s*-->")
# Common SRT layouts: DJI "[latitude: 33.78] [longitude: -118.19]" (also "latitude : ..."), DJI "GPS(lon, lat, alt)",
# dash cams "N33.7812 W118.1912" or "33.7812, -118.1912".
_LAT_LON_TAGGED = re.compile(r"lat(?:itude)?\s*[:=]\s*(-?\d+(?:\.\d+)?)\W+(?:lon|lng|longitude)\w*\s*[:=]\s*(-?\d+(?:\.\d+)?)",
                             re.IGNORECASE)
_DJI_GPS = re.compile(r"GPS\s*\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_HEMISPHERE = re.compile(r"([NS])\s*(\d+(?:\.\d+)?)\W+([EW])\s*(\d+(?:\.\d+)?)")
_PLAIN_PAIR = re.compile(r"(-?\d{1,2}\.\d{3,})\s*,\s*(-?\d{1,3}\.\d{3,})")


@dataclass(frozen=True)
class GpsTrack:
    """Positions in time order. ``keys`` are seconds into the footage (``by_footage_time``) or UTC epoch
    seconds (GPX)."""

    keys: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    by_footage_time: bool
    source: str

    def __post_init__(self) -> None:
        if len(self.keys) == 0:
            raise FootageError(f"{self.source}: no GPS positions found")
        if not (np.all(np.abs(self.lat) <= 90) and np.all(np.abs(self.lon) <= 180)):
            raise FootageError(f"{self.source}: a position is outside latitude [-90, 90] / longitude [-180, 180]")

    def __len__(self) -> int:
        return len(self.keys)

    def position(self, key: float) -> tuple[float, float, float | None]:
        """(lat, lon, heading in degrees) at ``key``, interpolated; held at the ends of the track."""
        lat = float(np.interp(key, self.keys, self.lat))
        lon = float(np.interp(key, self.keys, self.lon))
        if len(self.keys) < 2:
            return lat, lon, None
        after = int(np.clip(np.searchsorted(self.keys, key), 1, len(self.keys) - 1))
        return lat, lon, bearing(self.lat[after - 1], self.lon[after - 1], self.lat[after], self.lon[after])

    def position_for(self, footage_seconds: float, true_time: datetime | None) -> tuple[float, float, float | None]:
        if self.by_footage_time:
            return self.position(footage_seconds)
        if true_time is None:
            raise FootageError(f"{self.source} has clock times: give the footage start time to place reads on it")
        return self.position(true_time.timestamp())


def bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float | None:
    """Initial compass bearing from one point to the next; None when the camera did not move."""
    if abs(lat1 - lat2) < 1e-7 and abs(lon1 - lon2) < 1e-7:
        return None
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    delta = math.radians(lon2 - lon1)
    x = math.sin(delta) * math.cos(phi2)
    y = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(delta)
    return (math.degrees(math.atan2(x, y)) + 360) % 360


def read_gpx(path: Path) -> GpsTrack:
    try:
        root = ElementTree.parse(path).getroot()
    except (ElementTree.ParseError, OSError) as exc:
        raise FootageError(f"{path.name} is not a readable GPX file: {exc}") from None
    points = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] not in ("trkpt", "rtept", "wpt"):
            continue
        when = next((child.text for child in element if child.tag.rsplit("}", 1)[-1] == "time"), None)
        if when is None:
            continue
        try:
            moment = datetime.fromisoformat(when.strip().replace("Z", "+00:00"))
            points.append((moment.timestamp(), float(element.get("lat")), float(element.get("lon"))))
        except (TypeError, ValueError):
            raise FootageError(f"{path.name}: a track point has a bad time or position ({when!r})") from None
    points.sort()
    return GpsTrack(np.array([p[0] for p in points]), np.array([p[1] for p in points]),
                    np.array([p[2] for p in points]), False, path.name)


def _srt_position(text: str) -> tuple[float, float] | None:
    if match := _LAT_LON_TAGGED.search(text):
        return float(match.group(1)), float(match.group(2))
    if match := _DJI_GPS.search(text):  # DJI writes longitude first
        return float(match.group(2)), float(match.group(1))
    if match := _HEMISPHERE.search(text):
        lat = float(match.group(2)) * (-1 if match.group(1) == "S" else 1)
        lon = float(match.group(4)) * (-1 if match.group(3) == "W" else 1)
        return lat, lon
    if match := _PLAIN_PAIR.search(text):
        return float(match.group(1)), float(match.group(2))
    return None


def read_srt(path: Path) -> GpsTrack:
    try:
        content = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise FootageError(f"{path.name} cannot be read: {exc}") from None
    keys, lats, lons = [], [], []
    for block in re.split(r"\n\s*\n", content.replace("\r\n", "\n")):
        timecode = _TIMECODE.search(block)
        if not timecode:
            continue
        position = _srt_position(block[timecode.end():])
        if position is None:
            continue
        hours, minutes, seconds = (int(g) for g in timecode.groups()[:3])
        fraction = timecode.group(4).ljust(3, "0")  # ",5" is 500 ms and ",05" is 50 ms: pad the digits as written
        keys.append(hours * 3600 + minutes * 60 + seconds + int(fraction) / 1000)
        lats.append(position[0])
        lons.append(position[1])
    order = np.argsort(keys, kind="stable")
    return GpsTrack(np.array(keys)[order], np.array(lats)[order], np.array(lons)[order], True, path.name)


def read_sidecar(path: str | Path) -> GpsTrack:
    path = Path(path)
    if path.suffix.lower() == ".gpx":
        return read_gpx(path)
    if path.suffix.lower() == ".srt":
        return read_srt(path)
    raise FootageError(f"{path.name}: a GPS sidecar is a .gpx or .srt file")


def find_sidecar(footage: Path) -> Path | None:
    """A .gpx or .srt beside a video with the same name (dash cams and drones write them so)."""
    for suffix in SIDECAR_SUFFIXES:
        for candidate in (footage.with_suffix(suffix), footage.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    return None
