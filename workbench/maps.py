"""folium maps of results: clustered reads, scene circles, a vehicle's track with a time slider,
cameras, and a shipped street layer so a map still reads on an air-gapped network."""

from __future__ import annotations

from typing import Any

import folium
from folium.plugins import MarkerCluster, TimestampedGeoJson

from .sample.city import streets_geojson
from .settings import load_settings

SCENE_COLORS = ("red", "blue", "green", "purple", "orange", "darkred", "cadetblue", "black", "pink", "gray")


def base_map(center: tuple[float, float], zoom: int = 13, tiles: str | None = None) -> folium.Map:
    """A map with the configured tiles (or none) and the local street layer."""
    tiles = tiles or str(load_settings().tiles)
    if tiles == "none":
        fmap = folium.Map(location=center, zoom_start=zoom, tiles=None)
    elif tiles.startswith("http"):
        fmap = folium.Map(location=center, zoom_start=zoom, tiles=tiles, attr="agency tile server")
    else:
        fmap = folium.Map(location=center, zoom_start=zoom, tiles=tiles)
    folium.GeoJson(streets_geojson(), name="streets (offline layer)",
                   style_function=lambda _: {"color": "#777777", "weight": 2},
                   tooltip=folium.GeoJsonTooltip(fields=["name"])).add_to(fmap)
    return fmap


def _popup(row: Any) -> str:
    return (f"<b>{row.plate}</b> ({row.state})<br>{row.read_at:%Y-%m-%d %H:%M:%S} UTC<br>camera {row.camera_id}"
            f"<br>confidence {row.confidence}<br>read {row.read_id}"
            + (f"<br>image: <code>case.read_image({row.read_id})</code>" if row.has_image else ""))


def result_map(result: Any, tiles: str | None = None) -> folium.Map:
    """Draw any reads result: canvass scenes and layers per scene, a sightings track, or clustered reads."""
    reads = result.reads
    center = (float(reads["lat"].mean()), float(reads["lon"].mean())) if len(reads) else (33.795, -118.165)
    fmap = base_map(center, tiles=tiles)
    scenes = getattr(result, "scenes", None) or []
    for number, scene in enumerate(scenes, start=1):
        color = SCENE_COLORS[(number - 1) % len(SCENE_COLORS)]
        layer = folium.FeatureGroup(name=f"scene {number}: {scene.label}")
        if scene.polygon:
            folium.Polygon([(lat, lon) for lon, lat in scene.polygon], color=color, fill=False).add_to(layer)
        else:
            folium.Circle((scene.lat, scene.lon), radius=scene.radius_m, color=color, fill=False,
                          tooltip=scene.label).add_to(layer)
        cluster = MarkerCluster().add_to(layer)
        for row in reads[reads["scene"] == number].itertuples():
            folium.CircleMarker((row.lat, row.lon), radius=5, color=color, popup=_popup(row)).add_to(cluster)
        layer.add_to(fmap)
    if not scenes:
        cluster = MarkerCluster(name="reads").add_to(fmap)
        for row in reads.itertuples():
            folium.Marker((row.lat, row.lon), popup=_popup(row), tooltip=row.plate).add_to(cluster)
    if result.kind == "plate_history" and len(reads) > 1:
        ordered = reads.sort_values("read_at")
        folium.PolyLine(list(zip(ordered["lat"], ordered["lon"], strict=True)), color="crimson", weight=2,
                        tooltip="track in time order").add_to(fmap)
        features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
                     "properties": {"time": row.read_at.isoformat(), "popup": row.plate}}
                    for row in ordered.itertuples()]
        TimestampedGeoJson({"type": "FeatureCollection", "features": features}, period="PT1H",
                           add_last_point=True, duration="P7D").add_to(fmap)
    folium.LayerControl().add_to(fmap)
    return fmap
