"""PlateSearch: a witness's partial plate, explained as it is typed, searched under the open case."""

from __future__ import annotations

import html
from datetime import UTC, datetime, time, timedelta

import ipywidgets as w

from ..errors import InvalidArea, InvalidPattern
from ..plates import LOOKALIKE_CLASSES, parse_pattern
from ._common import SortableTable, Status, map_widget, running
from .gate import AccessGate


def _day_start(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class PlateSearch(w.VBox):
    """Pattern (``?`` one unknown, ``*`` any run, ``[8B]`` one of), look-alikes, mistakes, dates, optional circle;
    results table beside the map; pick a read to see its plate image (an audited call) and check it by eye."""

    def __init__(self, gate: AccessGate, pattern: str = "", days: int = 30, end: datetime | None = None) -> None:
        self.gate = gate
        self.result = None
        end = end or datetime.now(UTC)
        self.pattern = w.Text(value=pattern, description="Pattern", placeholder="e.g. 7??B12? or 7[8B]X*",
                              style={"description_width": "90px"})
        self.explanation = w.HTML()
        self.lookalike = w.Checkbox(value=True, description="look-alike characters (0/O/D/Q, 8/B, 1/I/L/T ...)",
                                    indent=False, tooltip=", ".join("/".join(g) for g in LOOKALIKE_CLASSES))
        self.mistakes = w.IntSlider(value=0, min=0, max=2, description="mistakes", style={"description_width": "90px"})
        self.start = w.DatePicker(value=(end - timedelta(days=days)).date(), description="from",
                                  style={"description_width": "90px"})
        self.end = w.DatePicker(value=end.date(), description="to (incl.)", style={"description_width": "90px"})
        self.use_area = w.Dropdown(options=[("anywhere", "none"), ("within a circle", "circle"),
                                            ("within a polygon", "polygon")], value="none", description="area",
                                   style={"description_width": "90px"})
        self.polygon = w.Textarea(placeholder="one corner per line: lat, lon (at least 3)", description="polygon",
                                  layout=w.Layout(width="420px", height="80px"))
        self.lat = w.FloatText(value=33.7701, description="lat", layout=w.Layout(width="180px"))
        self.lon = w.FloatText(value=-118.1937, description="lon", layout=w.Layout(width="180px"))
        self.radius = w.FloatText(value=1000, description="radius m", layout=w.Layout(width="180px"))
        self.search_button = w.Button(description="Search", button_style="primary", icon="search")
        self.status = Status()
        self.summary = w.HTML()
        self.table = SortableTable()
        self.map_box = w.Box(layout=w.Layout(width="55%"))
        self.pick = w.Dropdown(description="read", options=[], layout=w.Layout(width="380px"))
        self.show_image = w.Button(description="Show plate image", icon="image")
        self.image = w.Image(format="jpeg", layout=w.Layout(max_width="360px"))
        self.image_note = w.HTML()
        self.pattern.observe(lambda _: self._explain(), "value")
        self.search_button.on_click(lambda _: self.search())
        self.show_image.on_click(lambda _: self._image())
        self._explain()
        form = w.VBox([self.pattern, self.explanation, self.lookalike, self.mistakes, w.HBox([self.start, self.end]),
                       self.use_area, w.HBox([self.lat, self.lon, self.radius]), self.polygon, self.search_button,
                       self.status])
        results = w.HBox([w.VBox([self.summary, self.table], layout=w.Layout(width="45%")), self.map_box])
        super().__init__([form, results, w.HBox([self.pick, self.show_image]), w.HBox([self.image, self.image_note])])
        self.add_class("workbench-plate-search")

    def _explain(self) -> None:
        try:
            parsed = parse_pattern(self.pattern.value)
            self.explanation.value = (f"<small>Means: {html.escape(parsed.explain())} "
                                      f"({parsed.known} known characters)</small>")
        except InvalidPattern as exc:
            self.explanation.value = f'<small style="color:#a00">{html.escape(str(exc))}</small>'

    def search(self):
        """Run the search (the button does this)."""
        if not self.status.case_open(self.gate):
            return None
        with running(self.status, self.search_button, "searching the read store..."):
            area = self._area()
            if self.start.value is None or self.end.value is None:
                raise InvalidPattern("choose both dates", reason="invalid_window")
            self.result = self.gate.access.search_plates(
                self.pattern.value, _day_start(self.start.value), _day_start(self.end.value) + timedelta(days=1),
                lookalike=self.lookalike.value, max_mistakes=self.mistakes.value, area=area)
            plates = self.result.plates()
            self.summary.value = (f'<div class="workbench-result-count"><b>{len(self.result)}</b> reads of '
                                  f"<b>{len(plates)}</b> plates (audit record {self.result.audit_id})</div>")
            self.table.show(plates, default_sort="distance")
            self.map_box.children = [map_widget(self.result.map())]
            reads = self.result.reads.sort_values("read_at")
            self.pick.options = [(f"{r.plate}  {r.read_at:%Y-%m-%d %H:%M}  {r.camera_id}", int(r.read_id))
                                 for r in reads.itertuples() if r.has_image] or [("(no read has an image)", None)]
        return self.result

    def _area(self) -> dict | None:
        if self.use_area.value == "circle":
            return {"type": "circle", "lat": self.lat.value, "lon": self.lon.value, "radius_m": self.radius.value}
        if self.use_area.value == "polygon":
            corners = []
            for number, line in enumerate(filter(str.strip, self.polygon.value.splitlines()), start=1):
                try:
                    lat, lon = (float(part) for part in line.replace(";", ",").split(","))
                except ValueError:
                    raise InvalidArea(f"polygon corner {number} ({line.strip()!r}) is not 'lat, lon'",
                                      reason="invalid_area") from None
                corners.append([lon, lat])
            return {"type": "polygon", "coordinates": corners}  # the database checks shape and size
        return None

    def _image(self) -> None:
        if self.gate.access is None or self.pick.value is None:
            return
        with running(self.status, self.show_image, "fetching the image (audited)..."):
            self.image.value = self.gate.access.read_image(self.pick.value)
            self.image_note.value = ("<small>Compare the image with the plate text before relying on the read "
                                     "(visual verification is required before any action).</small>")
