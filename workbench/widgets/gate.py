"""AccessGate: who you are, the case, the purpose and why; nothing else opens without it."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from ..access import CaseAccess, Workbench
from ._common import Status, running


class AccessGate(w.VBox):
    """Opens an audited access session. ``gate.access`` is the open ``CaseAccess`` (None until opened);
    other widgets take the gate and wait for it."""

    def __init__(self, workbench: Workbench, case_number: str = "", purpose: str | None = None,
                 justification: str = "") -> None:
        self.workbench = workbench
        self.access: CaseAccess | None = None
        self._listeners: list[Callable[[CaseAccess], None]] = []
        me = workbench.whoami()
        purposes = workbench.purposes()
        self.identity = w.HTML(f"<b>Signed in as</b> {me['full_name']} (<code>{me['login']}</code>, {me['role']})")
        self.case_number = w.Text(value=case_number, description="Case number", placeholder=self._case_hint(),
                                  layout=w.Layout(width="420px"), style={"description_width": "120px"})
        self.purpose = w.Dropdown(options=[(label, key) for key, label in purposes.items()],
                                  value=purpose if purpose in purposes else None, description="Purpose",
                                  layout=w.Layout(width="520px"), style={"description_width": "120px"})
        self.justification = w.Textarea(value=justification, description="Justification",
                                        placeholder="What you are looking for and why (specific; 'investigation' "
                                                    "is refused)", layout=w.Layout(width="620px", height="70px"),
                                        style={"description_width": "120px"})
        self.open_button = w.Button(description="Open case", button_style="primary", icon="unlock")
        self.status = Status()
        self.banner = w.HTML()
        self.open_button.on_click(lambda _: self.open_case())
        super().__init__([self.identity, self.case_number, self.purpose, self.justification, self.open_button,
                          self.status, self.banner])
        self.add_class("workbench-access-gate")

    def _case_hint(self) -> str:
        return self.workbench.policy.get("case_number", {}).get("description", "case number")

    def on_open(self, callback: Callable[[CaseAccess], None]) -> None:
        self._listeners.append(callback)
        if self.access is not None:
            callback(self.access)

    # Not named ``open``: that is ipywidgets' own method that creates the widget in the browser.
    def open_case(self) -> CaseAccess | None:
        """Open the case (the button does this); a refusal shows here, already audited."""
        # A new attempt closes the case open before it: the gate shows one state only, never a refusal over
        # the previous case's banner.
        self.access = None
        self.banner.value = '<div class="workbench-no-case" style="color:#555;padding:4px 0">No case open.</div>'
        with running(self.status, self.open_button, "checking case, purpose, training and account..."):
            self.access = self.workbench.open_case(self.case_number.value.strip(), self.purpose.value or "",
                                                   self.justification.value)
            grant = self.access.grant
            self.banner.value = (f'<div class="workbench-case-open" style="background:#eef6ee;border-left:4px solid '
                                 f'#393;padding:6px 10px">Case <b>{grant.case_number}</b> open for '
                                 f"<b>{self.purpose.label}</b> until {grant.expires_at:%Y-%m-%d %H:%M %Z}. "
                                 f"Every query below is audited under it (record {grant.audit_id}).</div>")
            self.status.ok("Access granted.")
            for callback in self._listeners:
                callback(self.access)
        return self.access
