"""Training: every login takes the policy quiz (started and graded by the database, which never reveals
the right answers); trainers record in-person courses and see who keeps failing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import TrainingRequired
from .core import Core, Recorded, refusal_error


@dataclass(frozen=True)
class QuizAttempt:
    """One attempt as the database shuffled it: questions by position, each with its choices in this order."""

    attempt_id: int
    kind: str
    version: str
    course: str
    pass_mark: float
    questions: list[dict[str, Any]]
    audit_id: int


@dataclass(frozen=True)
class QuizOutcome:
    """The grade of an attempt: the score and the policy sections to reread, never the right answers."""

    score: float
    passed: bool
    pass_mark: float
    message: str
    review_sections: list[str] = field(default_factory=list)
    audit_id: int | None = None


class TrainingCalls(Core):
    def start_training(self, kind: str = "initial") -> QuizAttempt:
        """Start a quiz attempt (initial, refresher or reorientation): attempts a day are limited, and after a
        failed one the next opens only after the profile's wait."""
        answer = self._call("start_training", kind=kind)[0].outcome
        if answer["outcome"] != "granted":
            raise refusal_error(answer.get("reason_code"), answer["message"], answer.get("audit_id"))
        return QuizAttempt(int(answer["attempt_id"]), answer["kind"], answer["version"], answer["course"],
                           float(answer["pass_mark"]), list(answer["questions"]), int(answer["audit_id"]))

    def submit_training(self, attempt: QuizAttempt | int, answers: dict[int, int]) -> QuizOutcome:
        """Submit answers ({question position: choice position}) of an attempt; the database grades them and,
        on a pass, writes the training record the access guard checks."""
        attempt_id = attempt.attempt_id if isinstance(attempt, QuizAttempt) else int(attempt)
        answer = self._call("submit_training", attempt_id=attempt_id,
                            answers=json.dumps({str(int(k)): int(v) for k, v in answers.items()}))[0].outcome
        if answer["outcome"] != "granted":
            raise TrainingRequired(f"{answer['message']} [audit record {answer.get('audit_id')}]",
                                   reason=answer.get("reason_code") or "training_refused", audit_id=answer.get("audit_id"))
        return QuizOutcome(float(answer["score"]), bool(answer["passed"]), float(answer["pass_mark"]), answer["message"],
                           list(answer.get("review_sections") or []), answer.get("audit_id"))

    def record_training(self, login: str, course: str, kind: str, version: str, score: float,
                        completed_at: datetime | None = None) -> Recorded:
        """A trainer records an in-person course (trainers and administrators)."""
        return self._record("record_training", login=login, course=course, kind=kind, version=version, score=score,
                            completed_at=(completed_at or datetime.now().astimezone()).isoformat())

    def training_overview(self):
        """Each user's training, attempts and failures in 30 days; those who need the trainer first."""
        return self._table("training_overview")
