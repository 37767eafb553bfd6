"""What a person reads on screen and at the command line (#20, first part): each character's confidence and
runner-up in the footage review, plain numbers in the reads CSV, specific errors for a report written to a
format the workbench does not write, an empty password, and a call the login's role may not make."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workbench import cli
from workbench.errors import NotAuthorized
from workbench.widgets.footage import CHECK_BELOW, character_strip


def test_the_review_marks_the_characters_to_check_with_their_runner_up():
    strip = character_strip("8ABC123", (0.55, 0.99, 0.98, 0.97, 0.99, 0.99, 0.96),
                            (("B", 0.41), ("", 0.0), ("", 0.0), ("", 0.0), ("", 0.0), ("", 0.0), ("", 0.0)))
    assert strip.count('class="workbench-char"') == 6 and strip.count("workbench-char-check") == 1
    assert "B 41%" in strip and "55%" in strip and "check the marked character against the image" in strip
    clear = character_strip("7WXB124", (CHECK_BELOW,) * 7, (("", 0.0),) * 7)
    assert "workbench-char-check" not in clear and "at least 80%" in clear


def test_a_report_to_an_unknown_format_is_refused_before_anything_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PASSWORD", "not-used")
    out = tmp_path / "report.docx"
    assert cli.main(["report", "audit", "--user", "supervisor_sato", "--out", str(out)]) == 2
    assert "HTML (.html) or PDF (.pdf), not .docx" in capsys.readouterr().err and not out.exists()


def test_an_empty_password_is_named_as_such(monkeypatch, capsys):
    monkeypatch.delenv("WORKBENCH_PASSWORD", raising=False)
    monkeypatch.setattr("getpass.getpass", lambda prompt: "")
    assert cli.main(["retention", "run", "--dry-run", "--user", "admin_adams"]) == 2
    error = capsys.readouterr().err
    assert "no password given for admin_adams" in error and "cannot reach" not in error


def test_a_call_outside_the_role_says_so_in_words(connect_as):
    analyst = connect_as("analyst_avery")
    end = datetime.now(UTC)
    with pytest.raises(NotAuthorized, match="not among the calls this login's role may make") as refused:
        analyst.usage_report(end - timedelta(days=30), end)
    assert "ERROR:" not in str(refused.value)
