"""The policy quiz: questions from the agency profile, answers graded by the database, which writes the
training record on a pass (the access guard refuses data without a current one)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from ._common import Status, running

KINDS = (("initial training", "initial"), ("annual refresher", "refresher"), ("reorientation (a year without use)",
                                                                            "reorientation"))


class TrainingQuiz(w.VBox):
    """``TrainingQuiz(workbench.connect(user=...))``: the trainee answers under their own login."""

    def __init__(self, workbench: Any, kind: str = "initial") -> None:
        self.workbench = workbench
        self.outcome: dict[str, Any] | None = None
        quiz = workbench.training_quiz()
        if quiz.empty:
            raise ValueError("no quiz is loaded for this profile: an administrator runs `workbench db migrate`")
        self.quiz = quiz
        self.kind = w.Dropdown(options=KINDS, value=kind, description="course", style={"description_width": "90px"})
        self.questions = {}
        rows = []
        for row in quiz.itertuples():
            choice = w.RadioButtons(options=[(text, index) for index, text in enumerate(row.choices)], value=None,
                                    layout=w.Layout(width="auto"))
            self.questions[int(row.question_no)] = choice
            rows.append(w.VBox([w.HTML(f"<b>{row.question_no}. {html.escape(row.question)}</b>"), choice]))
        first = quiz.iloc[0]
        self.header = w.HTML(f"<h3>{html.escape(first['course'])}</h3><p>{len(quiz)} questions from the agency "
                             f"profile (quiz {html.escape(first['version'])}); pass mark "
                             f"{float(first['pass_mark']):.0%}. The database grades the answers.</p>")
        self.submit_button = w.Button(description="Submit answers", button_style="primary", icon="check")
        self.status = Status()
        self.review = w.HTML()
        self.submit_button.on_click(lambda _: self.submit())
        super().__init__([self.header, self.kind, *rows, self.submit_button, self.status, self.review])
        self.add_class("workbench-training")

    def answers(self) -> dict[int, int]:
        return {number: choice.value for number, choice in self.questions.items() if choice.value is not None}

    def submit(self) -> dict[str, Any] | None:
        unanswered = [number for number, choice in self.questions.items() if choice.value is None]
        if unanswered:
            self.status.value = (f'<div style="color:#a00">Answer every question first (missing: '
                                 f'{", ".join(map(str, unanswered))}).</div>')
            return None
        with running(self.status, self.submit_button, "grading..."):
            self.outcome = self.workbench.submit_training(self.answers(), kind=self.kind.value)
            outcome = self.outcome
            colour = "#2e7d32" if outcome["passed"] else "#c62828"
            self.status.value = (f'<div class="workbench-training-result" style="color:{colour};font-weight:bold">'
                                 f'{outcome["score"]:.0%}: {html.escape(outcome["message"])}</div>')
            items = "".join(
                f"<li>{'&#10004;' if item['correct'] else '&#10008;'} {html.escape(item['question'])}<br>"
                f"<small>Answer: {html.escape(str(item['right_choice']))}. {html.escape(item['explanation'])}</small></li>"
                for item in outcome["review"])
            self.review.value = f"<ol style='list-style:none;padding-left:0'>{items}</ol>"
        return self.outcome
