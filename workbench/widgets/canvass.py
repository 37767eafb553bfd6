"""Canvass: reads around one or more crime scenes in their time windows, and the vehicles seen at several."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ipywidgets as w
import pandas as pd

from ..access import Scene
from ._common import SortableTable, Status, map_widget, running
from .gate import AccessGate


class _SceneRow(w.HBox):
    def __init__(self, scene: Scene | None, number: int) -> None:
        scene = scene or Scene(f"scene {number}", datetime.now(UTC) - timedelta(hours=2),
                               datetime.now(UTC) + timedelta(hours=2), lat=33.77, lon=-118.19, radius_m=300)
        middle = scene.start + (scene.end - scene.start) / 2
        self.label = w.Text(value=scene.label, description="scene", layout=w.Layout(width="260px"))
        self.lat = w.FloatText(value=scene.lat, description="lat", layout=w.Layout(width="170px"))
        self.lon = w.FloatText(value=scene.lon, description="lon", layout=w.Layout(width="170px"))
        self.radius = w.FloatText(value=scene.radius_m, description="radius m", layout=w.Layout(width="170px"))
        self.at = w.Text(value=middle.isoformat(timespec="minutes"), description="time (UTC)",
                         layout=w.Layout(width="260px"))
        self.hours = w.FloatText(value=(scene.end - scene.start).total_seconds() / 7200, description="± hours",
                                 layout=w.Layout(width="150px"))
        super().__init__([self.label, self.lat, self.lon, self.radius, self.at, self.hours])

    def scene(self) -> Scene:
        from ..errors import InvalidTimeWindow

        try:
            at = datetime.fromisoformat(self.at.value)
        except ValueError:
            raise InvalidTimeWindow(f"{self.label.value}: time {self.at.value!r} is not like 2026-10-20T14:05",
                                    reason="invalid_window") from None
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        span = timedelta(hours=self.hours.value)
        return Scene(self.label.value, at - span, at + span, lat=self.lat.value, lon=self.lon.value,
                     radius_m=self.radius.value)


class Canvass(w.VBox):
    """Scenes (add as many as the profile allows), then the reads per scene, the common vehicles, and a map."""

    def __init__(self, gate: AccessGate, scenes: list[Scene] | None = None, min_scenes: int = 2) -> None:
        self.gate = gate
        self.result = None
        self.rows = w.VBox([_SceneRow(scene, i + 1) for i, scene in enumerate(scenes or [None])])
        self.add_button = w.Button(description="Add scene", icon="plus")
        self.remove_button = w.Button(description="Remove last", icon="minus")
        self.min_scenes = w.BoundedIntText(value=min_scenes, min=1, max=10, description="seen at ≥",
                                           layout=w.Layout(width="160px"))
        self.run_button = w.Button(description="Canvass", button_style="primary", icon="crosshairs")
        self.status = Status()
        self.per_scene = w.HTML()
        self.common = SortableTable()
        self.map_box = w.Box()
        self.add_button.on_click(lambda _: self._add())
        self.remove_button.on_click(lambda _: self._remove())
        self.run_button.on_click(lambda _: self.run())
        super().__init__([self.rows, w.HBox([self.add_button, self.remove_button, self.min_scenes, self.run_button]),
                          self.status, w.HBox([self.per_scene]), w.HTML("<b>Vehicles common to several scenes</b>"),
                          self.common, self.map_box])
        self.add_class("workbench-canvass")

    def _add(self) -> None:
        self.rows.children = [*self.rows.children, _SceneRow(None, len(self.rows.children) + 1)]

    def _remove(self) -> None:
        if len(self.rows.children) > 1:
            self.rows.children = self.rows.children[:-1]

    def run(self):
        if not self.status.case_open(self.gate):
            return None
        with running(self.status, self.run_button, "canvassing the scenes..."):
            scenes = [row.scene() for row in self.rows.children]
            self.result = self.gate.access.canvass(scenes, min_scenes=min(self.min_scenes.value, len(scenes)))
            counts = self.result.reads.groupby("scene").size() if len(self.result) else pd.Series(dtype=int)
            lines = "".join(f"<li>{scene.label}: <b>{int(counts.get(i, 0))}</b> reads</li>"
                            for i, scene in enumerate(scenes, start=1))
            self.per_scene.value = (f'<div class="workbench-result-count"><b>{len(self.result)}</b> reads '
                                    f"(audit record {self.result.audit_id})<ul>{lines}</ul></div>")
            self.common.show(self.result.common, default_sort="scene_count")
            self.common.descending.value = True
            self.map_box.children = [map_widget(self.result.map(), height=520)]
        return self.result
