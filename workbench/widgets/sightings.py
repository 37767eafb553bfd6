"""Sightings: one vehicle's track on a map with a time slider, and its timeline."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import ipywidgets as w
import matplotlib.pyplot as plt

from ._common import SortableTable, Status, map_widget, running
from .gate import AccessGate


class Sightings(w.VBox):
    def __init__(self, gate: AccessGate, plate: str = "", days: int = 90, end: datetime | None = None) -> None:
        self.gate = gate
        self.result = None
        end = end or datetime.now(UTC)
        self.plate = w.Text(value=plate, description="Plate", style={"description_width": "90px"})
        self.lookalike = w.Checkbox(value=False, description="include look-alike family (e.g. 8/B, 0/O)", indent=False)
        self.start = w.DatePicker(value=(end - timedelta(days=days)).date(), description="from",
                                  style={"description_width": "90px"})
        self.end = w.DatePicker(value=end.date(), description="to (incl.)", style={"description_width": "90px"})
        self.run_button = w.Button(description="Show sightings", button_style="primary", icon="car")
        self.status = Status()
        self.summary = w.HTML()
        self.timeline = w.Output()
        self.map_box = w.Box()
        self.table = SortableTable()
        self.run_button.on_click(lambda _: self.run())
        super().__init__([self.plate, self.lookalike, w.HBox([self.start, self.end]), self.run_button, self.status,
                          self.summary, self.map_box, self.timeline, self.table])
        self.add_class("workbench-sightings")

    def run(self):
        if not self.status.case_open(self.gate):
            return None
        with running(self.status, self.run_button, "collecting sightings..."):
            start = datetime.combine(self.start.value, time.min, tzinfo=UTC)
            end = datetime.combine(self.end.value, time.min, tzinfo=UTC) + timedelta(days=1)
            self.result = self.gate.access.plate_history(self.plate.value, start, end, lookalike=self.lookalike.value)
            info = self.result.summary()
            if info["sightings"]:
                self.summary.value = (f'<div class="workbench-result-count"><b>{info["sightings"]}</b> sightings of '
                                      f'<b>{info["plate"]}</b> at {info["cameras"]} cameras, first '
                                      f'{info["first_seen"]:%Y-%m-%d %H:%M}, last {info["last_seen"]:%Y-%m-%d %H:%M} '
                                      f"UTC (audit record {self.result.audit_id})</div>")
            else:
                self.summary.value = f"<div>No sightings of {info['plate']} in that window.</div>"
            self.map_box.children = [map_widget(self.result.map(), height=500)]
            self.timeline.clear_output()
            with self.timeline:
                if info["sightings"]:
                    self.result.timeline()
                    plt.show()
            self.table.show(self.result.to_dataframe()[["read_at", "plate", "camera_id", "source", "confidence"]],
                            default_sort="read_at")
        return self.result
