"""Pieces every widget shares: errors shown in place in plain words, a busy indicator, maps and tables."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as w

from ..errors import AccessDenied, DatabaseUnavailable, FootageError, ModelWeightsError, WorkbenchError

_ADVICE = {
    AccessDenied: "The database refused this and recorded the attempt in the audit log.",
    DatabaseUnavailable: "The database is not reachable: start it with `workbench db up`.",
    FootageError: "Nothing was saved.",
    ModelWeightsError: "The recognition models are not installed: run ./setup.sh.",
}


class Status(w.HTML):
    """One line of status under a form: errors in red with what to do, results in green, work in grey."""

    def error(self, exc: WorkbenchError) -> None:
        advice = next((text for kind, text in _ADVICE.items() if isinstance(exc, kind)), "")
        audit = getattr(exc, "audit_id", None)
        self.value = (f'<div class="workbench-error" style="color:#a00;padding:4px 0"><b>Refused:</b> '
                      f"{html.escape(str(exc))}<br><small>{advice}"
                      f"{f' Audit record {audit}.' if audit else ''}</small></div>")

    def notice(self, text: str) -> None:
        """Something the person must do before the form can go on (nothing was sent)."""
        self.value = f'<div class="workbench-notice" style="color:#a00;padding:4px 0">{html.escape(text)}</div>'

    def ok(self, text: str) -> None:
        self.value = f'<div class="workbench-ok" style="color:#060;padding:4px 0">{html.escape(text)}</div>'

    def busy(self, text: str) -> None:
        self.value = (f'<div class="workbench-busy" style="color:#555;padding:4px 0">'
                      f'<i class="fa fa-spinner fa-spin"></i> {html.escape(text)}</div>')

    def clear(self) -> None:
        self.value = ""

    def case_open(self, gate) -> bool:
        """True when the gate has an open case; otherwise says so here."""
        if gate.access is None:
            self.value = '<div style="color:#a00">Open a case in the access gate first.</div>'
        return gate.access is not None


@contextmanager
def running(status: Status, button: w.Button | None, text: str) -> Iterator[None]:
    """Disable the button and show a spinner while slow work runs; show a WorkbenchError in place."""
    if button is not None:
        button.disabled = True
    status.busy(text)
    try:
        yield
    except WorkbenchError as exc:
        status.error(exc)
    else:
        if status.value.startswith('<div class="workbench-busy"'):
            status.clear()
    finally:
        if button is not None:
            button.disabled = False


def map_widget(fmap: Any, height: int = 480) -> w.HTML:
    """A folium map inside a widget (its own iframe, so several maps coexist)."""
    document = html.escape(fmap.get_root().render(), quote=True)
    return w.HTML(f'<iframe class="workbench-map" srcdoc="{document}" style="width:100%;height:{height}px;border:0">'
                  "</iframe>")


def table_html(frame: Any, max_rows: int = 200) -> str:
    if frame is None or len(frame) == 0:
        return "<i>no rows</i>"
    return frame.head(max_rows).to_html(index=False, classes="workbench-table", border=0, float_format="%.3f")


class SortableTable(w.VBox):
    """A results table with a sort control (ipywidgets has no sortable grid of its own)."""

    def __init__(self, on_select: Callable[[Any], None] | None = None) -> None:
        self.frame = None
        self.sort_by = w.Dropdown(description="sort by", layout=w.Layout(width="260px"))
        self.descending = w.Checkbox(description="descending", value=False, indent=False)
        self.body = w.HTML()
        self.sort_by.observe(lambda _: self._render(), "value")
        self.descending.observe(lambda _: self._render(), "value")
        super().__init__([w.HBox([self.sort_by, self.descending]), self.body])

    def show(self, frame: Any, default_sort: str | None = None) -> None:
        self.frame = frame
        columns = list(frame.columns) if frame is not None else []
        self.sort_by.options = columns
        if default_sort in columns:
            self.sort_by.value = default_sort
        self._render()

    def _render(self) -> None:
        frame = self.frame
        if frame is not None and len(frame) and self.sort_by.value in frame.columns:
            frame = frame.sort_values(self.sort_by.value, ascending=not self.descending.value, kind="stable")
        self.body.value = f'<div style="max-height:360px;overflow:auto">{table_html(frame)}</div>'
