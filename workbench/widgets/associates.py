"""Associates: the plates that travel with a vehicle of interest, ranked by how unlikely chance makes it,
each row explained; the shared sightings of the chosen one beside the target's on a map; an audited export."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import ipywidgets as w

from ._common import SortableTable, Status, map_widget, running
from .gate import AccessGate


class Associates(w.VBox):
    def __init__(self, gate: AccessGate, plate: str = "", days: int = 30, end: datetime | None = None) -> None:
        self.gate = gate
        self.result = None
        end = end or datetime.now(UTC)
        style = {"description_width": "110px"}
        self.plate = w.Text(value=plate, description="Target plate", style=style)
        # ``days`` whole days with the last one included (the profile's approval threshold counts days)
        self.start = w.DatePicker(value=(end - timedelta(days=days - 1)).date(), description="from", style=style)
        self.end = w.DatePicker(value=end.date(), description="to (incl.)", style=style)
        self.within = w.BoundedIntText(value=2, min=1, max=10, description="within (min)", style=style,
                                       layout=w.Layout(width="200px"))
        self.min_places = w.BoundedIntText(value=2, min=1, max=20, description="at cameras ≥", style=style,
                                           layout=w.Layout(width="200px"))
        self.run_button = w.Button(description="Find associates", button_style="primary", icon="users")
        self.status = Status()
        self.summary = w.HTML()
        self.table = SortableTable()
        self.pick = w.Dropdown(description="map of", options=[], style=style, layout=w.Layout(width="320px"))
        self.map_box = w.Box(layout=w.Layout(width="100%"))
        self.export_name = w.Text(value="associates.csv", description="export as", style=style)
        self.export_button = w.Button(description="Export (audited)", icon="download", disabled=True)
        self.run_button.on_click(lambda _: self.run())
        self.pick.observe(lambda change: self._draw(change["new"]), names="value")
        self.export_button.on_click(lambda _: self.export())
        super().__init__([self.plate, w.HBox([self.start, self.end]), w.HBox([self.within, self.min_places]),
                          self.run_button, self.status, self.summary, self.table, self.pick, self.map_box,
                          w.HBox([self.export_name, self.export_button])])
        self.add_class("workbench-associates")

    def run(self):
        if not self.status.case_open(self.gate):
            return None
        with running(self.status, self.run_button, "looking for vehicles travelling with the target..."):
            start = datetime.combine(self.start.value, time.min, tzinfo=UTC)
            end = datetime.combine(self.end.value, time.min, tzinfo=UTC) + timedelta(days=1)
            self.result = self.gate.access.associates(self.plate.value, start, end,
                                                      within=timedelta(minutes=self.within.value),
                                                      min_places=self.min_places.value)
            ranking = self.result.associates
            self.summary.value = (
                f'<div class="workbench-result-count"><b>{len(ranking)}</b> plates read within '
                f"{self.within.value} min of <b>{self.result.plate}</b> ({self.result.target_reads} reads) at "
                f"{self.min_places.value} or more cameras, least likely by chance first (audit record "
                f"{self.result.audit_id}: the associates are recorded in it)."
                + "".join(f"<br><small>{note}</small>" for note in self.result.warnings) + "</div>")
            shown = ranking.assign(chance=ranking["chance"].map(lambda p: f"{p:.2g}"),
                                   expected_by_chance=ranking["expected_by_chance"].map(lambda e: f"{e:.3g}"))
            self.table.show(shown, default_sort="chance")
            self.pick.options = ranking["plate"].tolist()
            self.pick.value = self.pick.options[0] if self.pick.options else None
            if not self.pick.options:
                self.map_box.children = []
            self.export_button.disabled = not len(ranking)
        return self.result

    def _draw(self, associate: str | None) -> None:
        if self.result is not None and associate:
            self.map_box.children = [map_widget(self.result.map(associate), height=480)]

    def export(self):
        if self.result is None:
            return None
        with running(self.status, self.export_button, "recording the export..."):
            record = self.gate.access.export(self.result, self.export_name.value)
            self.status.ok(f"exported to {record.path} (audit record {record.audit_id})")
        return record
