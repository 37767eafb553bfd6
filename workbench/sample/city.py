"""The sample city: Long Beach, California, as a grid of its main arterials.

Coordinates are approximate (to about 100 m): each east-west street has one latitude and each
north-south street one longitude, which is close to Long Beach's real grid. Camera sites are real
intersections of those streets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

EAST_WEST = {  # street -> latitude
    "Ocean Blvd": 33.7670, "7th St": 33.7755, "Anaheim St": 33.7823, "Pacific Coast Hwy": 33.7895,
    "Willow St": 33.8046, "Spring St": 33.8110, "Wardlow Rd": 33.8195, "Carson St": 33.8315,
    "Del Amo Blvd": 33.8465,
}
NORTH_SOUTH = {  # street -> longitude
    "Magnolia Ave": -118.1990, "Pine Ave": -118.1923, "Long Beach Blvd": -118.1893, "Atlantic Ave": -118.1851,
    "Orange Ave": -118.1777, "Cherry Ave": -118.1675, "Redondo Ave": -118.1518, "Lakewood Blvd": -118.1405,
    "Bellflower Blvd": -118.1245, "Studebaker Rd": -118.1095,
}
FIXED_CAMERA_SITES = (
    ("Ocean Blvd", "Pine Ave"), ("Ocean Blvd", "Long Beach Blvd"), ("Ocean Blvd", "Atlantic Ave"),
    ("Ocean Blvd", "Cherry Ave"), ("Ocean Blvd", "Redondo Ave"), ("7th St", "Magnolia Ave"),
    ("7th St", "Long Beach Blvd"), ("7th St", "Atlantic Ave"), ("7th St", "Cherry Ave"), ("7th St", "Redondo Ave"),
    ("7th St", "Bellflower Blvd"), ("Anaheim St", "Magnolia Ave"), ("Anaheim St", "Long Beach Blvd"),
    ("Anaheim St", "Orange Ave"), ("Anaheim St", "Cherry Ave"), ("Anaheim St", "Redondo Ave"),
    ("Pacific Coast Hwy", "Magnolia Ave"), ("Pacific Coast Hwy", "Long Beach Blvd"),
    ("Pacific Coast Hwy", "Atlantic Ave"), ("Pacific Coast Hwy", "Cherry Ave"), ("Pacific Coast Hwy", "Redondo Ave"),
    ("Pacific Coast Hwy", "Lakewood Blvd"), ("Pacific Coast Hwy", "Bellflower Blvd"), ("Willow St", "Magnolia Ave"),
    ("Willow St", "Long Beach Blvd"), ("Willow St", "Atlantic Ave"), ("Willow St", "Cherry Ave"),
    ("Willow St", "Lakewood Blvd"), ("Spring St", "Long Beach Blvd"), ("Spring St", "Orange Ave"),
    ("Spring St", "Cherry Ave"), ("Spring St", "Redondo Ave"), ("Spring St", "Lakewood Blvd"),
    ("Spring St", "Bellflower Blvd"), ("Wardlow Rd", "Long Beach Blvd"), ("Wardlow Rd", "Atlantic Ave"),
    ("Wardlow Rd", "Cherry Ave"), ("Carson St", "Long Beach Blvd"), ("Carson St", "Atlantic Ave"),
    ("Carson St", "Lakewood Blvd"), ("Carson St", "Bellflower Blvd"), ("Del Amo Blvd", "Atlantic Ave"),
    ("Del Amo Blvd", "Lakewood Blvd"), ("7th St", "Studebaker Rd"),
)
MOBILE_UNITS = ("MOB-01", "MOB-02", "MOB-03", "MOB-04", "MOB-05", "MOB-06")


@dataclass(frozen=True)
class Camera:
    camera_id: str
    name: str
    kind: str
    lat: float | None
    lon: float | None
    heading_deg: float | None


def intersection(east_west: str, north_south: str) -> tuple[float, float]:
    """(lat, lon) of a grid intersection."""
    return EAST_WEST[east_west], NORTH_SOUTH[north_south]


def cameras() -> list[Camera]:
    fixed = []
    for number, (street_a, street_b) in enumerate(FIXED_CAMERA_SITES, start=1):
        lat, lon = intersection(street_a, street_b)
        fixed.append(Camera(f"LB-{number:03d}", f"{street_a} & {street_b}", "fixed", lat, lon, float((number * 90) % 360)))
    mobile = [Camera(unit, f"Patrol unit {unit[-2:]}", "mobile", None, None, None) for unit in MOBILE_UNITS]
    return fixed + mobile


def street_segments() -> list[tuple[str, tuple[float, float], tuple[float, float]]]:
    """(street, (lat, lon) start, (lat, lon) end) for every arterial, end to end across the grid."""
    west, east = min(NORTH_SOUTH.values()), max(NORTH_SOUTH.values())
    south, north = min(EAST_WEST.values()), max(EAST_WEST.values())
    segments = [(name, (lat, west), (lat, east)) for name, lat in EAST_WEST.items()]
    segments += [(name, (south, lon), (north, lon)) for name, lon in NORTH_SOUTH.items()]
    return segments


def streets_geojson() -> dict:
    """The local street layer that maps draw when no tile server is reachable (air-gapped networks)."""
    features = [{"type": "Feature", "properties": {"name": name},
                 "geometry": {"type": "LineString", "coordinates": [[a[1], a[0]], [b[1], b[0]]]}}
                for name, a, b in street_segments()]
    return {"type": "FeatureCollection", "features": features}


def write_streets(path: Path) -> None:
    path.write_text(json.dumps(streets_geojson(), indent=1))


def sensitive_places() -> list[dict]:
    """Demo sensitive places for the First Amendment flag: made-up names at grid intersections, away from
    the sample crime scenes (an agency registers its real ones with api.admin_add_sensitive_place)."""
    places = (("Sample congregation (demo data)", "place_of_worship", "Carson St", "Long Beach Blvd"),
              ("Sample health clinic (demo data)", "health_clinic", "Pacific Coast Hwy", "Magnolia Ave"))
    return [{"name": name, "kind": kind, "lat": intersection(ew, ns)[0], "lon": intersection(ew, ns)[1],
             "radius_m": 150.0} for name, kind, ew, ns in places]
