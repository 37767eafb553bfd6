"""Supervisor review: the chain check first, the audit log filtered, charts, where searches were run,
the risk-ordered review queue with sign-off, the proportionality view and pending scope approvals.
Every call here is audited by the database (reviewing the log is itself logged)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import ipywidgets as w
import matplotlib.pyplot as plt

from ..maps import concentration_map
from ..reports import chain_banner
from ._common import SortableTable, Status, map_widget, running

LOG_COLUMNS = ["audit_id", "logged_at", "db_user", "case_number", "purpose", "function_name", "outcome", "reason",
               "rows_returned", "justification"]
FUNCTIONS = ("", "open_access", "search_plates", "plate_history", "canvass", "read_image", "export", "hits",
             "verify_hit", "ingest_footage_reads", "sharing_export", "search_deleted", "legal_hold_request",
             "request_scope_approval")


def review_charts(log: Any) -> plt.Figure:
    """Queries per user per week, by purpose, refusals by reason, exports per user."""
    figure, axes = plt.subplots(1, 4, figsize=(18, 4))
    data = log[log["function_name"] != "open_access"]
    if len(data):
        weekly = (data.assign(week=data["logged_at"].dt.strftime("%G-W%V")).groupby(["week", "db_user"]).size()
                  .unstack(fill_value=0))
        weekly.plot(kind="bar", stacked=True, ax=axes[0], title="queries per user per week")
        data["purpose"].fillna("(none)").value_counts().plot(kind="barh", ax=axes[1], title="by purpose")
    refusals = log.loc[log["outcome"] == "denied", "reason"].fillna("denied").str.slice(0, 40)
    if len(refusals):
        refusals.value_counts().plot(kind="barh", ax=axes[2], title="refusals by reason", color="#c62828")
    exports = log.loc[log["function_name"].isin(["export", "sharing_export"]) & (log["outcome"] == "granted"), "db_user"]
    if len(exports):
        exports.value_counts().plot(kind="barh", ax=axes[3], title="exports per user", color="#b26a00")
    for axis, title in zip(axes, ("queries per user per week", "by purpose", "refusals by reason", "exports per user"),
                           strict=True):
        if not axis.has_data():
            axis.set_title(f"{title}: none")
            axis.set_axis_off()
    figure.tight_layout()
    return figure


class AuditReview(w.VBox):
    """For supervisors: ``AuditReview(workbench.connect(user=...))``."""

    def __init__(self, workbench: Any, days: int = 30, end: datetime | None = None) -> None:
        self.workbench = workbench
        self.records = None
        self.queue = None
        end = end or datetime.now(UTC)
        style = {"description_width": "90px"}
        self.start = w.DatePicker(value=(end - timedelta(days=days)).date(), description="from", style=style)
        self.end = w.DatePicker(value=end.date(), description="to (incl.)", style=style)
        self.user = w.Text(description="user", placeholder="login", style=style)
        self.case_number = w.Text(description="case", style=style)
        self.purpose = w.Dropdown(description="purpose", style=style,
                                  options=[("any", "")] + [(label, key) for key, label in workbench.purposes().items()])
        self.function = w.Dropdown(description="function", options=[("any", "")] + [(f, f) for f in FUNCTIONS if f],
                                   style=style)
        self.outcome = w.Dropdown(description="outcome", options=[("any", ""), ("granted", "granted"),
                                                                 ("denied", "denied"), ("error", "error")], style=style)
        self.plate = w.Text(description="plate", placeholder="plate or pattern as typed", style=style)
        self.run_button = w.Button(description="Review", button_style="primary", icon="search")
        self.status = Status()
        self.chain = w.HTML()
        self.summary = w.HTML()
        self.table = SortableTable()
        self.charts = w.Output()
        self.map_box = w.Box()
        self.queue_table = SortableTable()
        self.signoff_record = w.Dropdown(description="record", style=style)
        self.signoff_finding = w.Textarea(description="finding", placeholder="what you found and did (10+ characters)",
                                          style=style, layout=w.Layout(width="600px"))
        self.signoff_button = w.Button(description="Sign off", icon="check")
        self.signoff_status = Status()
        self.proportionality_table = SortableTable()
        self.approvals_table = SortableTable()
        self.approval_id = w.Dropdown(description="request", style=style)
        self.approval_note = w.Text(description="note", placeholder="why (10+ characters)", style=style,
                                    layout=w.Layout(width="600px"))
        self.approve_button = w.Button(description="Approve", button_style="success")
        self.refuse_button = w.Button(description="Refuse", button_style="danger")
        self.approval_status = Status()
        self.run_button.on_click(lambda _: self.run())
        self.signoff_button.on_click(lambda _: self.sign_off())
        self.approve_button.on_click(lambda _: self.decide(True))
        self.refuse_button.on_click(lambda _: self.decide(False))
        tabs = w.Tab([
            w.VBox([self.table]), self.charts, self.map_box,
            w.VBox([self.queue_table, self.signoff_record, self.signoff_finding, self.signoff_button,
                    self.signoff_status]),
            self.proportionality_table,
            w.VBox([self.approvals_table, self.approval_id, self.approval_note,
                    w.HBox([self.approve_button, self.refuse_button]), self.approval_status])])
        for index, title in enumerate(("log", "charts", "where", "review queue", "proportionality", "approvals")):
            tabs.set_title(index, title)
        super().__init__([self.chain, w.HBox([self.start, self.end]), w.HBox([self.user, self.case_number, self.plate]),
                          w.HBox([self.purpose, self.function, self.outcome]), self.run_button, self.status,
                          self.summary, tabs])
        self.add_class("workbench-audit-review")

    def window(self) -> tuple[datetime, datetime]:
        return (datetime.combine(self.start.value, time.min, tzinfo=UTC),
                datetime.combine(self.end.value, time.min, tzinfo=UTC) + timedelta(days=1))

    def filters(self) -> dict[str, str]:
        chosen = {"user": self.user.value.strip(), "case_number": self.case_number.value.strip(),
                  "purpose": self.purpose.value, "function": self.function.value, "outcome": self.outcome.value,
                  "plate": self.plate.value.strip().upper()}
        return {key: value for key, value in chosen.items() if value}

    def run(self):
        with running(self.status, self.run_button, "checking the chain and reading the log..."):
            self.chain.value = chain_banner(self.workbench.verify_audit_chain())
            start, end = self.window()
            self.records = self.workbench.audit_log(start, end, **self.filters())
            log = self.records
            denied = int((log["outcome"] == "denied").sum()) if len(log) else 0
            self.summary.value = (f'<div class="workbench-result-count"><b>{len(log)}</b> audit records, '
                                  f"<b>{denied}</b> refused, from {start:%Y-%m-%d} to {end:%Y-%m-%d} "
                                  "(this review is itself recorded)</div>")
            if len(log):
                self.table.show(log[[c for c in LOG_COLUMNS if c in log.columns]], default_sort="audit_id")
                self.charts.clear_output()
                with self.charts:
                    review_charts(log)
                    plt.show()
                self.map_box.children = [map_widget(concentration_map(log, self.workbench.sensitive_places(), self.workbench.map_context))]
            else:
                self.table.show(log)
            self.refresh_queue()
            self.proportionality_table.show(self._proportionality(start, end), default_sort="ratio_to_agency")
            self.refresh_approvals()
        return self.records

    def _proportionality(self, start: datetime, end: datetime):
        frame = self.workbench.proportionality(start, end)
        columns = ["audit_id", "logged_at", "db_user", "case_number", "function_name", "area_km2", "window_hours",
                   "cameras", "ratio_to_user", "ratio_to_agency", "over_threshold", "approval_id"]
        return frame[[c for c in columns if c in frame.columns]] if len(frame) else frame

    def refresh_queue(self) -> None:
        self.queue = self.workbench.review_queue(*self.window())
        queue = self.queue
        self.queue_table.show(queue.assign(flags=queue["flags"].map(", ".join), why=queue["why"].map("; ".join))
                              if len(queue) else queue, default_sort="risk")
        self.queue_table.descending.value = True
        self.signoff_record.options = [(f"{r.audit_id} (risk {r.risk}: {r.flags[0]})", int(r.audit_id))
                                       for r in queue.itertuples() if not r.signed_off][:200]

    def refresh_approvals(self) -> None:
        pending = self.workbench.scope_approvals(pending_only=True)
        self.approvals_table.show(pending)
        self.approval_id.options = [(f"{r.approval_id}: {r.db_user}, {r.function_name}, case {r.case_number}",
                                     int(r.approval_id)) for r in pending.itertuples()] if len(pending) else []

    def sign_off(self) -> None:
        if self.signoff_record.value is None or self.queue is None:
            self.signoff_status.value = "<i>Run the review and choose a flagged record first.</i>"
            return
        row = self.queue[self.queue["audit_id"] == self.signoff_record.value].iloc[0]
        with running(self.signoff_status, self.signoff_button, "recording the sign-off..."):
            recorded = self.workbench.sign_off(int(row["audit_id"]), row["flags"][0], self.signoff_finding.value)
            self.signoff_status.ok(f"{recorded.message} (audit record {recorded.audit_id})")
            self.signoff_finding.value = ""
            self.refresh_queue()

    def decide(self, approve: bool) -> None:
        if self.approval_id.value is None:
            self.approval_status.value = "<i>No pending request chosen.</i>"
            return
        button = self.approve_button if approve else self.refuse_button
        with running(self.approval_status, button, "recording the decision..."):
            recorded = self.workbench.decide_scope_approval(self.approval_id.value, approve, self.approval_note.value)
            self.approval_status.ok(f"{recorded.message} (audit record {recorded.audit_id})")
            self.approval_note.value = ""
            self.refresh_approvals()
