"""The policy quiz: an attempt started and graded by the database (questions and choices shuffled per
attempt, never the right answers back), which writes the training record on a pass (the access guard refuses
data without a current one)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from ..errors import AccessDenied
from ._common import Status, running

KINDS = (("initial training", "initial"), ("annual refresher", "refresher"), ("reorientation (a year without use)",
                                                                            "reorientation"))


class TrainingQuiz(w.VBox):
    """``TrainingQuiz(workbench.connect(user=...))``: the trainee answers under their own login."""

    def __init__(self, workbench: Any, kind: str = "initial") -> None:
        self.workbench = workbench
        self.outcome: Any = None
        self.status = Status()
        self.attempt = None
        self.questions: dict[int, w.RadioButtons] = {}
        try:
            self.attempt = workbench.start_training(kind)
        except AccessDenied as refused:  # no attempt left today, or the wait after a failure: say so in place
            self.status.error(refused)
            super().__init__([w.HTML("<h3>Policy training</h3>"), self.status])
            self.add_class("workbench-training")
            return
        attempt = self.attempt
        rows = []
        for question in attempt.questions:
            choice = w.RadioButtons(options=[(text, index) for index, text in enumerate(question["choices"])],
                                    value=None, layout=w.Layout(width="100%"))
            choice.add_class("workbench-choice")
            self.questions[int(question["position"])] = choice
            rows.append(w.VBox([w.HTML(f"<b>{question['position']}. {html.escape(question['question'])}</b>"), choice]))
        self.header = w.HTML(f"<h3>{html.escape(attempt.course)}</h3><p>{len(attempt.questions)} questions from the "
                             f"agency profile (quiz {html.escape(attempt.version)}, {dict(KINDS_BY_KIND)[attempt.kind]}); "
                             f"pass mark {attempt.pass_mark:.0%}. The database grades the answers and shows the score "
                             "and the sections to reread, not the answers.</p>")
        self.submit_button = w.Button(description="Submit answers", button_style="primary", icon="check")
        self.review = w.HTML()
        self.submit_button.on_click(lambda _: self.submit())
        super().__init__([self.header, *rows, self.submit_button, self.status, self.review])
        self.add_class("workbench-training")

    def answers(self) -> dict[int, int]:
        return {position: choice.value for position, choice in self.questions.items() if choice.value is not None}

    def submit(self) -> Any:
        if self.attempt is None:
            return None
        unanswered = [position for position, choice in self.questions.items() if choice.value is None]
        if unanswered:
            self.status.notice(f"Answer every question first (missing: {', '.join(map(str, unanswered))}).")
            return None
        with running(self.status, self.submit_button, "grading..."):
            self.outcome = outcome = self.workbench.submit_training(self.attempt, self.answers())
            colour = "#2e7d32" if outcome.passed else "#c62828"
            self.status.value = (f'<div class="workbench-training-result" style="color:{colour};font-weight:bold">'
                                 f'{outcome.score:.0%}: {html.escape(outcome.message)}</div>')
            self.submit_button.disabled = True  # an attempt is graded once; a new one starts a new quiz
            if outcome.review_sections:
                items = "".join(f"<li>{html.escape(section)}</li>" for section in outcome.review_sections)
                self.review.value = f"<p>Reread these parts of the policy:</p><ul>{items}</ul>"
        return self.outcome


KINDS_BY_KIND = tuple((value, label) for label, value in KINDS)
