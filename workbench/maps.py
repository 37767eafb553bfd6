"""folium maps of results: clustered reads, scene circles, a vehicle's track with a time slider,
cameras, and a shipped street layer so a map still reads on an air-gapped network."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import folium
from folium.plugins import MarkerCluster, PolyLineTextPath, TimestampedGeoJson

ASSETS = Path(__file__).resolve().parent / "map_assets"
# folium's resource names -> the vendored file (None: not needed by these maps, left out).
_LOCAL = {
    "leaflet": "leaflet.js", "jquery": "jquery.min.js", "jquery3.7.1": "jquery.min.js", "leaflet_css": "leaflet.css",
    "markerclusterjs": "leaflet.markercluster.js", "markerclustercss": "MarkerCluster.css",
    "markerclusterdefaultcss": "MarkerCluster.Default.css", "jqueryui1.10.2": "jquery-ui.min.js",
    "iso8601": "iso8601.js", "leaflet.timedimension": "leaflet.timedimension.min.js",
    "leaflet.timedimension_css": "leaflet.timedimension.control.min.css", "moment": "moment.min.js",
    "polylinetextpath": "leaflet.textpath.js", "bootstrap": None, "awesome_markers": None, "bootstrap_css": None,
    "glyphicons_css": None, "awesome_markers_font_css": None, "awesome_markers_css": None,
    "awesome_rotate_css": None, "highlight.js_css": None,
}


@cache
def _data_uri(name: str) -> str:
    content = (ASSETS / name).read_bytes()
    if name.endswith(".css"):
        text = content.decode()
        # Images beside the CSS go inline too; fonts from CDNs are dropped (nothing may be fetched).
        text = re.sub(r"url\((['\"]?)images/([\w.-]+\.png)\1\)",
                      lambda m: f"url(data:image/png;base64,{base64.b64encode((ASSETS / m.group(2)).read_bytes()).decode()})",
                      text)
        text = re.sub(r"@font-face\s*{[^}]*}", "", text)
        return "data:text/css;base64," + base64.b64encode(text.encode()).decode()
    return "data:text/javascript;base64," + base64.b64encode(content).decode()


def offline(fmap: folium.Map) -> folium.Map:
    """Replace every CDN script and stylesheet of the map with the vendored copy, inline."""
    pending = [fmap]
    while pending:
        element = pending.pop()
        for attribute in ("default_js", "default_css"):
            resources = getattr(element, attribute, None)
            if resources:
                unknown = [name for name, _ in resources if name not in _LOCAL]
                if unknown:
                    raise KeyError(f"map resources {unknown} have no vendored copy in {ASSETS}")
                setattr(element, attribute, [(name, _data_uri(_LOCAL[name])) for name, _ in resources
                                             if _LOCAL[name]])
        pending.extend(getattr(element, "_children", {}).values())
    return fmap

SCENE_COLORS = ("red", "blue", "green", "purple", "orange", "darkred", "cadetblue", "black", "pink", "gray")


@dataclass(frozen=True)
class MapContext:
    """What every map of one workbench shares: the tile source (a setting), the agency's centre (its profile's
    ``agency.map_center``) and offline layers (the sample city's streets, when the sample is what is loaded)."""

    tiles: str = "none"
    center: tuple[float, float] = (0.0, 0.0)
    layers: tuple[tuple[str, dict], ...] = ()


def map_context(workbench: Any) -> MapContext:
    """The map context of a connection: its settings' tiles, its profile's centre, the sample's layer if loaded."""
    center = workbench.policy["agency"].get("map_center") or (0.0, 0.0)
    layers: tuple[tuple[str, dict], ...] = ()
    if workbench.sample_end() is not None:
        from .sample.city import streets_geojson

        layers = (("sample city streets (offline layer)", streets_geojson()),)
    return MapContext(str(workbench.settings.tiles or "none"), (float(center[0]), float(center[1])), layers)


def base_map(center: tuple[float, float] | None = None, zoom: int = 13, context: MapContext | None = None) -> folium.Map:
    """A map with the context's tiles (or none), centred on ``center`` or the agency's centre, its offline layers."""
    context = context or MapContext()
    center = center or context.center
    tiles = context.tiles
    if tiles == "none":
        fmap = folium.Map(location=center, zoom_start=zoom, tiles=None)
    elif tiles.startswith("http"):
        fmap = folium.Map(location=center, zoom_start=zoom, tiles=tiles, attr="agency tile server")
    else:
        fmap = folium.Map(location=center, zoom_start=zoom, tiles=tiles)
    for name, layer in context.layers:
        folium.GeoJson(layer, name=name, style_function=lambda _: {"color": "#777777", "weight": 2},
                       tooltip=folium.GeoJsonTooltip(fields=["name"])).add_to(fmap)
    return fmap


def _popup(row: Any) -> str:
    return (f"<b>{row.plate}</b> ({row.state})<br>{row.read_at:%Y-%m-%d %H:%M:%S %z}<br>camera {row.camera_id}"
            f"<br>confidence {row.confidence}<br>read {row.read_id}"
            + (f"<br>image: <code>case.read_image({row.read_id})</code>" if row.has_image else ""))


def add_legend(fmap: folium.Map, title: str, entries: list[tuple[str, str]]) -> None:
    """A fixed legend box: (colour, label) rows."""
    rows = "".join(f'<div><span style="display:inline-block;width:12px;height:12px;background:{color};'
                   f'margin-right:6px;border-radius:6px"></span>{label}</div>' for color, label in entries)
    fmap.get_root().html.add_child(folium.Element(
        '<div class="workbench-legend" style="position:fixed;bottom:24px;left:24px;z-index:9999;background:white;'
        f'padding:8px 10px;border:1px solid #999;border-radius:4px;font:12px sans-serif"><b>{title}</b>{rows}</div>'))


def add_cameras(fmap: folium.Map, cameras: Any) -> None:
    """Fixed cameras and mobile units as a layer of their own (from ``Workbench.cameras()``)."""
    layer = folium.FeatureGroup(name="cameras", show=True)
    for row in cameras.itertuples():
        if getattr(row, "lat", None) is None or row.lat != row.lat:
            continue
        folium.CircleMarker((row.lat, row.lon), radius=3, color="#444444", weight=1, fill=True,
                            fill_color="#999999", fill_opacity=0.9, tooltip=f"{row.camera_id} {row.name}").add_to(layer)
    layer.add_to(fmap)


def result_map(result: Any, context: MapContext | None = None, cameras: Any = None, tiles: str | None = None) -> folium.Map:
    """Draw any reads result: canvass scenes and layers per scene, a sightings track, or clustered reads."""
    reads = result.reads
    context = context or getattr(result, "map_context", None) or MapContext()
    if tiles is not None:
        context = replace(context, tiles=tiles)
    center = (float(reads["lat"].mean()), float(reads["lon"].mean())) if len(reads) else None
    fmap = base_map(center, context=context)
    if cameras is not None:
        add_cameras(fmap, cameras)
    scenes = getattr(result, "scenes", None) or []
    legend: list[tuple[str, str]] = []
    for number, scene in enumerate(scenes, start=1):
        color = SCENE_COLORS[(number - 1) % len(SCENE_COLORS)]
        layer = folium.FeatureGroup(name=f"scene {number}: {scene.label}")
        legend.append((color, f"scene {number}: {scene.label}"))
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
        legend.append(("#2a81cb", f"reads ({len(reads)})"))
        for row in reads.itertuples():
            # Vector markers: image icons would need files that an inline map cannot point to.
            folium.CircleMarker((row.lat, row.lon), radius=6, color="#2a81cb", fill=True, fill_opacity=0.7,
                                popup=_popup(row), tooltip=row.plate).add_to(cluster)
    if result.kind == "plate_history" and len(reads) > 1:
        ordered = reads.sort_values("read_at")
        track = folium.PolyLine(list(zip(ordered["lat"], ordered["lon"], strict=True)), color="crimson", weight=2,
                                tooltip="track in time order").add_to(fmap)
        # Arrows along the track show the direction of travel.
        PolyLineTextPath(track, "  \u25BA  ", repeat=True, offset=5,
                         attributes={"fill": "crimson", "font-size": "12"}).add_to(fmap)
        legend.append(("crimson", f"track of {getattr(result, 'plate', '')}, first to last sighting"))
        features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
                     "properties": {"time": row.read_at.isoformat(), "popup": row.plate}}
                    for row in ordered.itertuples()]
        TimestampedGeoJson({"type": "FeatureCollection", "features": features}, period="PT1H",
                           add_last_point=True, duration="P7D").add_to(fmap)
    if legend:
        add_legend(fmap, {"canvass": "Canvass", "plate_history": "Sightings"}.get(result.kind, "Reads"), legend)
    folium.LayerControl().add_to(fmap)
    return offline(fmap)


def associates_map(result: Any, associate: str | None = None, context: MapContext | None = None,
                   tiles: str | None = None) -> folium.Map:
    """The target's and one associate's shared sightings as two tracks side by side (time order), a line
    between each pair read together, and each pair's times in its tooltip."""
    context = context or getattr(result, "map_context", None) or MapContext()
    if tiles is not None:
        context = replace(context, tiles=tiles)
    ranking = result.associates
    associate = associate or (str(ranking.iloc[0]["plate"]) if len(ranking) else None)
    pairs = result.reads[result.reads["plate"] == associate].sort_values("target_at") if associate else result.reads.iloc[0:0]
    center = (float(pairs["lat"].mean()), float(pairs["lon"].mean())) if len(pairs) else None
    fmap = base_map(center, context=context)
    legend = []
    if len(pairs):
        target_layer = folium.FeatureGroup(name=f"target {result.plate}")
        associate_layer = folium.FeatureGroup(name=f"associate {associate}")
        for row in pairs.itertuples():
            when = f"{row.target_at:%Y-%m-%d %H:%M:%S %Z}"
            # A ring for the target, a dot for the associate: read at one camera, both stay visible.
            folium.CircleMarker((row.target_lat, row.target_lon), radius=10, color="crimson", weight=3, fill=False,
                                tooltip=f"{result.plate} at {row.target_camera_id}, {when}").add_to(target_layer)
            folium.CircleMarker((row.lat, row.lon), radius=4, color="#1f6feb", fill=True, fill_opacity=0.9,
                                tooltip=f"{associate} at {row.camera_id}, {int(row.seconds_apart):+d} s").add_to(associate_layer)
            folium.PolyLine([(row.target_lat, row.target_lon), (row.lat, row.lon)], color="#555555", weight=1,
                            dash_array="4").add_to(associate_layer)
        if len(pairs) > 1:
            folium.PolyLine(list(zip(pairs["target_lat"], pairs["target_lon"], strict=True)), color="crimson", weight=3,
                            opacity=0.6, tooltip=f"{result.plate}, in time order").add_to(target_layer)
            folium.PolyLine(list(zip(pairs["lat"], pairs["lon"], strict=True)), color="#1f6feb", weight=2,
                            dash_array="6", tooltip=f"{associate}, in time order").add_to(associate_layer)
        target_layer.add_to(fmap)
        associate_layer.add_to(fmap)
        points = [*zip(pairs["target_lat"], pairs["target_lon"], strict=True), *zip(pairs["lat"], pairs["lon"], strict=True)]
        fmap.fit_bounds([[min(p[0] for p in points), min(p[1] for p in points)],
                         [max(p[0] for p in points), max(p[1] for p in points)]], padding=(40, 40))
        legend = [("crimson", f"target {result.plate}"), ("#1f6feb", f"associate {associate}: read together "
                                                                     f"{len(pairs)} times")]
    if legend:
        add_legend(fmap, "Associates", legend)
    folium.LayerControl().add_to(fmap)
    return offline(fmap)


def _drawable(spec: dict) -> bool:
    """An area as typed can hold anything (the audit log keeps refused ones too): draw only real coordinates."""
    def number(value: Any) -> bool:
        return isinstance(value, int | float) and value == value and abs(value) != float("inf")

    if spec["type"] == "circle":
        return all(number(spec.get(key)) for key in ("lat", "lon", "radius_m"))
    corners = spec.get("coordinates")
    return isinstance(corners, list) and all(isinstance(c, list) and len(c) == 2 and all(map(number, c)) for c in corners)


def query_areas(log: Any) -> list[dict]:
    """The areas searched in audit records (canvass scenes, area-bounded plate searches), with who and when."""
    areas = []
    for row in log.itertuples():
        parameters = row.parameters if isinstance(row.parameters, dict) else {}
        specs = [scene.get("area") for scene in parameters.get("scenes") or [] if isinstance(scene, dict)]
        specs.append(parameters.get("area"))
        for spec in specs:
            if isinstance(spec, dict) and spec.get("type") in ("circle", "polygon") and _drawable(spec):
                areas.append({"area": spec, "db_user": row.db_user, "case_number": row.case_number,
                              "function_name": row.function_name, "logged_at": row.logged_at,
                              "outcome": row.outcome})
    return areas


def concentration_map(log: Any, sensitive_places: Any = None, context: MapContext | None = None) -> folium.Map:
    """Where canvasses and area searches were run: each area drawn faint, so where they pile up the map is
    dark (a heat map that needs no extra script offline), with the registered sensitive places."""
    areas = query_areas(log)
    points = [(a["area"]["lat"], a["area"]["lon"]) for a in areas if a["area"]["type"] == "circle"]
    center = ((sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
              if points else None)
    fmap = base_map(center, zoom=12, context=context)
    layer = folium.FeatureGroup(name="areas searched", show=True)
    for item in areas:
        spec = item["area"]
        label = (f"{item['function_name']} by {item['db_user']}, case {item['case_number']}, "
                 f"{item['logged_at']:%Y-%m-%d %H:%M %z} ({item['outcome']})")
        style = {"color": "#c62828", "weight": 1, "fill": True, "fill_color": "#c62828", "fill_opacity": 0.12}
        if spec["type"] == "circle":
            folium.Circle((spec["lat"], spec["lon"]), radius=float(spec["radius_m"]), tooltip=label, **style).add_to(layer)
        else:
            folium.Polygon([(lat, lon) for lon, lat in spec["coordinates"]], tooltip=label, **style).add_to(layer)
    layer.add_to(fmap)
    entries = [("#c62828", f"area searched ({len(areas)}); darker where many overlap")]
    if sensitive_places is not None and len(sensitive_places):
        places = folium.FeatureGroup(name="sensitive places", show=True)
        for row in sensitive_places.itertuples():
            folium.Circle((row.lat, row.lon), radius=float(row.radius_m), color="#6a1b9a", weight=2, fill=True,
                          fill_opacity=0.3, tooltip=f"{row.name} ({row.kind.replace('_', ' ')})").add_to(places)
        places.add_to(fmap)
        entries.append(("#6a1b9a", "sensitive place (First Amendment)"))
    add_legend(fmap, "Where searches were run", entries)
    folium.LayerControl().add_to(fmap)
    return offline(fmap)
