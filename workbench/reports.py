"""The semi-annual audit report, the annual usage report and the public transparency report as
self-contained HTML (plots inline), from figures the database computes out of the audit log
(``api.usage_report``; the report run is itself audited). PDF through headless Chromium when present.

Internal reports name users and never list plates unless asked; the public report has neither.
"""

from __future__ import annotations

import base64
import html
import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import WorkbenchError

KINDS = {
    "audit": ("Semi-annual ALPR audit report", False),
    "usage": ("Annual ALPR usage report", False),
    "transparency": ("ALPR public transparency report", True),
}


@dataclass(frozen=True)
class Report:
    kind: str
    title: str
    figures: dict[str, Any]
    chain: Any | None
    html: str
    folder: Path | None = None  # where a bare file name goes: WORKBENCH_HOME/reports

    def _where(self, path: str | Path) -> Path:
        path = Path(path)
        if self.folder is not None and not path.is_absolute() and path.parent == Path("."):
            return self.folder / path.name
        return path

    def save(self, path: str | Path) -> Path:
        """Write the HTML report; a bare file name is written under WORKBENCH_HOME/reports/."""
        path = self._where(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        return path

    def save_pdf(self, path: str | Path) -> Path:
        """Print the HTML to PDF with headless Chromium (installed by the set-up for the browser test)."""
        browser = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                        if shutil.which(name)), None)
        if browser is None:
            raise WorkbenchError("PDF needs Chromium (apt-get install chromium); the HTML report prints from any browser")
        path = self._where(path).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as scratch:
            page = self.save(Path(scratch) / "report.html")
            done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--print-to-pdf={path}",
                                   "--no-pdf-header-footer", page.as_uri()], capture_output=True, text=True, timeout=120)
        if done.returncode != 0 or not path.is_file():
            raise WorkbenchError(f"Chromium could not print the report: {done.stderr.strip()[-300:]}")
        return path

    def _repr_html_(self) -> str:
        return self.html


def build_report(workbench: Any, kind: str, start: datetime, end: datetime, *, include_plates: bool = False) -> Report:
    """Figures from the database (audited), the audit chain check for internal reports, rendered to HTML."""
    if kind not in KINDS:
        raise WorkbenchError(f"report kind must be one of {sorted(KINDS)}, got {kind!r}")
    title, public = KINDS[kind]
    if public and include_plates:
        raise WorkbenchError("a public report never contains plate numbers")
    figures = workbench.usage_report(start, end, public=public, include_plates=include_plates)
    chain = workbench.verify_audit_chain()
    return Report(kind, title, figures, chain, render(title, figures, chain, public), workbench.settings.home / "reports")


def chain_banner(check: Any) -> str:
    """``verify_audit_chain``'s answer as a green or red banner naming the first broken record, with the chain's
    head published for anyone to keep (a later check against it detects a truncated or re-hashed chain)."""
    colour = "#2e7d32" if check.ok else "#c62828"
    state = "intact" if check.ok else f"BROKEN at record {check.first_broken_id}"
    head = getattr(check, "head", None) or {}
    anchor = (f"<br><small>Chain head: link {head.get('chain_seq')}, record {head.get('audit_id')}, sha256 "
              f"<code>{html.escape(str(head.get('row_hash', '')))}</code>; keep it to check this log later.</small>"
              if head else "")
    return (f'<div class="workbench-chain" style="background:{colour};color:white;padding:8px;font-weight:bold;'
            f'margin:12px 0">Audit chain {state}. {html.escape(check.detail)}{anchor}</div>')


def _plot(series: pd.Series, title: str, color: str = "#1f4e79", horizontal: bool = True) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if series.empty:
        return "<p><em>none in this period</em></p>"
    figure, axis = plt.subplots(figsize=(7, max(1.6, 0.35 * len(series) + 0.8)))
    (series.sort_values().plot.barh if horizontal else series.plot.bar)(ax=axis, color=color)
    axis.set_title(title)
    axis.set_xlabel("count")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return f'<img alt="{html.escape(title)}" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>none in this period</em></p>"
    return frame.to_html(index=False, escape=True, border=0, classes="figures")


def _pairs(mapping: dict[str, Any] | None, key: str, value: str = "count") -> pd.DataFrame:
    return pd.DataFrame(sorted((mapping or {}).items(), key=lambda kv: -kv[1]), columns=[key, value])


def render(title: str, figures: dict[str, Any], chain: Any | None, public: bool) -> str:
    """One self-contained page: no scripts, no external files."""
    period = figures["period"]
    searches = pd.DataFrame(figures["searches_by_purpose_and_outcome"] or [],
                            columns=["purpose", "function", "outcome", "count"])
    by_purpose = searches.groupby("purpose")["count"].sum() if not searches.empty else pd.Series(dtype=int)
    outcomes = pd.Series(figures["outcomes"] or {}, dtype=int)
    hits, sharing, holds, audits = figures["hits"], figures["sharing"], figures["legal_holds"], figures["audits"]
    retention = pd.DataFrame(figures["retention_runs"] or [],
                             columns=["at", "logically_deleted", "rows_deleted", "kept_under_legal_hold"])
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='meta'>{html.escape(figures['agency'] or '')} &middot; {html.escape(figures['policy'] or '')}<br>"
        f"Period {html.escape(str(period['from'])[:10])} to {html.escape(str(period['to'])[:10])} &middot; "
        f"computed from the audit log at {html.escape(str(figures['generated_at'])[:19])} UTC"
        f"{' &middot; no names or plate numbers' if public else ''}</p>",
    ]
    if chain is not None:
        sections.append(chain_banner(chain))
    summary = pd.DataFrame([
        ("cases opened (granted)", sum((figures["cases_opened_by_purpose"] or {}).values())),
        ("data queries", int(searches["count"].sum()) if not searches.empty else 0),
        ("refused attempts", int(outcomes.get("denied", 0))),
        ("rows returned", figures["rows_returned"]),
        ("people who queried data", figures["people_with_data_calls"]),
        ("exports", figures["exports"]),
        ("hot-list hits", hits["total"]),
        ("sharing requests", sharing["requests"]),
        ("retention runs", len(retention)),
        ("audit reviews and chain checks", audits["log_reviews"] + audits["chain_verifications"]),
    ], columns=["measure", "count"])
    sections += ["<h2>Summary</h2>", _table(summary),
                 "<h2>Searches by purpose</h2>", _plot(by_purpose, "data queries by purpose"),
                 _table(searches),
                 "<h2>Outcomes</h2>", _plot(outcomes, "calls by outcome", "#555"),
                 "<h2>Refusals by reason</h2>", _table(_pairs(figures["refusals_by_reason"], "reason"))]
    if not public:
        users = pd.DataFrame(figures["by_user"] or [], columns=["user", "name", "calls", "denied", "exports", "cases"])
        sections += ["<h2>By user</h2>",
                     _plot(users.set_index("user")["calls"] if not users.empty else pd.Series(dtype=int),
                           "calls per user"), _table(users)]
    sections += [
        "<h2>Hot-list hits and their verification</h2>",
        _table(pd.DataFrame([hits]).rename(columns=lambda c: c.replace("_", " "))),
        "<h2>Sharing with other agencies</h2>",
        _table(pd.DataFrame([{k: v for k, v in sharing.items() if k != "partners"}])),
        _table(_pairs(sharing["partners"], "approved partner agency", "requests")),
        "<h2>Retention and legal holds</h2>", _table(retention),
        _table(pd.DataFrame([holds]).rename(columns=lambda c: c.replace("_", " "))),
        "<h2>Audits done</h2>",
        _table(pd.DataFrame([{k: v for k, v in audits.items() if k != "flags"}]).rename(columns=lambda c: c.replace("_", " "))),
    ]
    if not public:
        sections += ["<h3>Review flags raised</h3>", _plot(pd.Series(audits["flags"] or {}, dtype=int), "flags", "#b26a00"),
                     "<h2>Scope approvals</h2>", _table(pd.DataFrame([figures["scope_approvals"]])),
                     "<h2>Training</h2>", _table(pd.DataFrame([{"records": figures["training"]["records"],
                                                                "passed": figures["training"]["passed"],
                                                                **(figures["training"]["by_kind"] or {})}]))]
        if figures.get("plates_most_queried"):
            sections += ["<h2>Plates most queried (included on request)</h2>",
                         _table(pd.DataFrame(figures["plates_most_queried"]))]
    style = ("body{font-family:DejaVu Sans,Arial,sans-serif;max-width:960px;margin:24px auto;color:#222}"
             "h1{color:#1f4e79}.meta{color:#555}"
             "table.figures{border-collapse:collapse;margin:8px 0}table.figures td,table.figures th"
             "{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}img{max-width:100%}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(sections)}</body></html>")
