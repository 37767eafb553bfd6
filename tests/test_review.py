"""Supervisor review and training, through the database: scope approvals before large queries, each review
flag on a planted example and not on ordinary use, weights from the profile, reports with the right counts,
and the policy quiz graded by the database gating access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import workbench
from workbench import training
from workbench.errors import ApprovalRequired, InvalidQuery, NotAuthorized, TrainingRequired
from workbench.policy import load_profile
from workbench.reports import build_report
from workbench.sample import city
from workbench.sample.generator import scenarios
from workbench.widgets import AuditReview, TrainingQuiz

from .conftest import END, PASSWORDS, audit_rows, last_audit_id

PLAN = scenarios(END)
PROFILE = load_profile("lapd")
WEIGHTS = PROFILE.data["audit"]["flag_weights"]


def _scene(label: str, lat: float, lon: float, radius_m: float, hours: float = 2.0) -> workbench.Scene:
    return workbench.Scene(label, END - timedelta(hours=hours), END, lat=lat, lon=lon, radius_m=radius_m)


def _queue_since(connect_as, start: datetime):
    return connect_as("supervisor_sato").review_queue(start, datetime.now(UTC) + timedelta(minutes=1))


def _flagged(queue, flag: str) -> set[int]:
    return set(queue.loc[queue["flags"].map(lambda flags: flag in flags), "audit_id"])


def test_a_canvass_above_the_thresholds_runs_only_after_a_supervisor_approves(connect_as, cases, superuser):
    investigator = connect_as("investigator_ito")
    case = investigator.open_case(cases[1], "criminal_investigation", "Robbery crew: wide canvass after the getaway")
    wide = [_scene("getaway", 33.80, -118.17, 4500)]  # 63.6 km2, above LAPD's 50 km2
    before = last_audit_id(superuser)
    with pytest.raises(ApprovalRequired, match="supervisor"):
        case.canvass(wide)
    refusal = audit_rows(superuser, before)[-1]
    assert (refusal["reason"], refusal["flags"]) == ("approval_required", ["over_scope"])
    with pytest.raises(InvalidQuery):
        case.request_scope_approval("canvass", "too short", area_km2=70)
    request = case.request_scope_approval("canvass", "Getaway route crosses the city; need the wide circle",
                                          area_km2=70).approval_id
    with pytest.raises(NotAuthorized):  # nobody decides their own, and analysts decide nothing
        investigator.decide_scope_approval(request, True, "Approving my own request")
    supervisor = connect_as("supervisor_sato")
    assert request in set(supervisor.scope_approvals()["approval_id"])
    supervisor.decide_scope_approval(request, True, "Armed robbery series, approved for this week")
    with pytest.raises(InvalidQuery, match="already approved"):
        supervisor.decide_scope_approval(request, False, "Changing my mind afterwards")
    result = case.canvass(wide)
    assert len(result.reads) > 0
    granted = audit_rows(superuser, before)[-1]
    with superuser.cursor() as cursor:
        cursor.execute("SELECT scope FROM alpr.audit_log WHERE audit_id = %s", (granted["audit_id"],))
        assert cursor.fetchone()[0]["approval_id"] == request
    # The approval covers this user, case and size only.
    with pytest.raises(ApprovalRequired):
        case.canvass([_scene("wider", 33.80, -118.17, 4900)])
    other_case = investigator.open_case(cases[0], "criminal_investigation", "Shooting series: same wide canvass")
    with pytest.raises(ApprovalRequired):
        other_case.canvass(wide)
    view = supervisor.proportionality(datetime.now(UTC) - timedelta(minutes=10), datetime.now(UTC) + timedelta(minutes=1))
    row = view[view["audit_id"] == granted["audit_id"]].iloc[0]
    assert row["over_threshold"] and row["approval_id"] == request


def test_searches_near_a_sensitive_place_are_flagged_and_ordinary_ones_are_not(connect_as, cases):
    clinic = next(p for p in city.sensitive_places() if p["kind"] == "health_clinic")
    analyst = connect_as("analyst_avery")
    case = analyst.open_case(cases[0], "criminal_investigation", "Shooting series: reads near the clinic block")
    start = datetime.now(UTC)
    near = case.canvass([_scene("clinic", clinic["lat"] + 0.002, clinic["lon"], 300)])
    scene = PLAN.scenes[0]
    ordinary = case.canvass([_scene("scene", scene.lat, scene.lon, 300)])
    queue = _queue_since(connect_as, start)
    flagged = _flagged(queue, "sensitive_place")
    assert near.audit_id in flagged and ordinary.audit_id not in flagged
    why = queue.loc[queue["audit_id"] == near.audit_id, "why"].iloc[0]
    assert any("health clinic" in text and "First Amendment" in text for text in why)
    with pytest.raises(NotAuthorized):
        analyst.add_sensitive_place("My own idea of a place", "other", 33.8, -118.2)
    admin = connect_as("admin_adams")
    with pytest.raises(InvalidQuery, match="latitude"):
        admin.add_sensitive_place("Swapped coordinates", "place_of_worship", -118.2, 33.8)
    admin.add_sensitive_place("Test protest site", "protest_site", scene.lat + 0.02, scene.lon, 100)
    assert "Test protest site" in set(analyst.sensitive_places()["name"])


def test_unusual_volume_is_flagged_for_that_user_only(fresh_analyst, connect_as, cases):
    import time

    login, newcomer = fresh_analyst()  # no history: the profile's hourly limit is the bar
    now = datetime.now(UTC)
    if now.minute == 59 and now.second > 20:  # the flag counts calls per clock hour: keep them in one
        time.sleep(61 - now.second)
    start = datetime.now(UTC)
    busy = newcomer.open_case(cases[0], "criminal_investigation", "Shooting series: checking every plate from the tow list")
    calm = connect_as("analyst_avery").open_case(cases[0], "criminal_investigation",
                                                 "Shooting series: suspect vehicle history for the warrant")
    limit = PROFILE.data["audit"]["unusual_calls_per_hour"]
    for _ in range(limit):
        busy.plate_history(PLAN.suspect_plate, END - timedelta(days=7), END)
    calm.plate_history(PLAN.suspect_plate, END - timedelta(days=7), END)
    queue = _queue_since(connect_as, start)
    flagged = queue[queue["flags"].map(lambda flags: "unusual_volume" in flags)]
    assert set(flagged["db_user"]) == {login}
    assert any(f"{limit} data queries in one hour" in text for text in flagged["why"].iloc[0])


def test_a_case_used_for_very_many_plates_is_flagged(connect_as, cases):
    start = datetime.now(UTC)
    case = connect_as("investigator_ito").open_case(cases[0], "criminal_investigation",
                                                    "Shooting series: every plate a witness half remembered")
    limit = PROFILE.data["audit"]["case_plate_limit"]
    lookups = [case.plate_history(f"9ZZZ{number:03d}", END - timedelta(days=7), END).audit_id for number in range(limit)]
    case.plate_history(PLAN.suspect_plate, END - timedelta(days=7), END)
    queue = _queue_since(connect_as, start)
    assert _flagged(queue, "case_many_plates") == {lookups[-1]}  # where the limit was reached
    assert not _flagged(queue, "unusual_volume")  # fewer calls than the hourly limit


def test_a_query_far_above_the_usual_scope_is_flagged_as_disproportionate(connect_as, cases):
    case = connect_as("analyst_avery").open_case(cases[0], "criminal_investigation",
                                                 "Shooting series: canvass of the garages on the block")
    scene = PLAN.scenes[2]
    for _ in range(10):  # the usual: small canvasses
        case.canvass([_scene("block", scene.lat, scene.lon, 150, hours=1)])
    start = datetime.now(UTC)
    usual = case.canvass([_scene("block", scene.lat, scene.lon, 200, hours=1)])
    huge = case.canvass([_scene("half the city", scene.lat, scene.lon, 3900, hours=1)])  # 47.8 km2: under 50
    flagged = _flagged(_queue_since(connect_as, start), "disproportionate_scope")
    assert huge.audit_id in flagged and usual.audit_id not in flagged


def test_queue_risk_is_the_sum_of_the_profiles_flag_weights(connect_as, cases):
    queue = _queue_since(connect_as, datetime.now(UTC) - timedelta(hours=2))
    assert len(queue) > 0
    for row in queue.itertuples():
        assert row.risk == sum(WEIGHTS[flag] for flag in row.flags), row


def test_reports_count_what_happened_and_the_public_one_names_nobody(connect_as, cases, superuser):
    start = datetime.now(UTC)
    case = connect_as("analyst_avery").open_case(cases[1], "non_criminal_investigation",
                                                 "Missing person: the family car's last sightings")
    case.plate_history(PLAN.stolen_plates[0], END - timedelta(days=30), END)
    case.plate_history(PLAN.stolen_plates[0], END - timedelta(days=60), END)
    with pytest.raises(workbench.InvalidPattern):
        case.search_plates("7*", END - timedelta(days=1), END)
    end = datetime.now(UTC) + timedelta(minutes=1)
    supervisor = connect_as("supervisor_sato")
    before = last_audit_id(superuser)
    internal = build_report(supervisor, "audit", start, end, include_plates=True)
    figures = internal.figures
    assert figures["cases_opened_by_purpose"] == {"non_criminal_investigation": 1}
    counts = {(r["function"], r["outcome"]): r["count"] for r in figures["searches_by_purpose_and_outcome"]}
    assert counts == {("plate_history", "granted"): 2, ("search_plates", "denied"): 1}
    assert figures["refusals_by_reason"] == {"pattern_too_broad": 1}
    assert [u["user"] for u in figures["by_user"]] == ["analyst_avery"]
    assert figures["plates_most_queried"][0] == {"plate": PLAN.stolen_plates[0], "queries": 2, "cases": 1}
    assert "analyst_avery" in internal.html and PLAN.stolen_plates[0] in internal.html
    assert [r["function_name"] for r in audit_rows(superuser, before)][0] == "usage_report"
    public = build_report(supervisor, "transparency", start, end)
    assert public.figures["by_user"] is None and public.figures["plates_most_queried"] is None
    for secret in ("analyst_avery", "Avery Analyst", PLAN.stolen_plates[0], PLAN.suspect_plate):
        assert secret not in public.html
    assert "<script" not in public.html and "data:image/png;base64," in public.html
    with pytest.raises(NotAuthorized):
        connect_as("analyst_avery").usage_report(start, end)


def test_report_prints_to_pdf(connect_as, tmp_path):
    supervisor = connect_as("supervisor_sato")
    report = build_report(supervisor, "usage", datetime.now(UTC) - timedelta(days=1), datetime.now(UTC))
    pdf = report.save_pdf(tmp_path / "usage.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000


RIGHT_CHOICES = {q.question: q.choices[q.answer] for q in training.build_questions(PROFILE)}


def _right(attempt) -> dict[int, int]:
    """The right choice of each question as this attempt shuffled it (the tests know the bank; trainees do not)."""
    return {q["position"]: q["choices"].index(RIGHT_CHOICES[q["question"]]) for q in attempt.questions}


def test_passing_the_quiz_in_the_database_opens_access(fresh_analyst, cases, superuser):
    login, analyst = fresh_analyst(trained=False)
    justification = "Shooting series: first look at the partial plate"
    with pytest.raises(TrainingRequired):
        analyst.open_case(cases[0], "criminal_investigation", justification)
    attempt = analyst.start_training("initial")
    assert len(attempt.questions) == len(RIGHT_CHOICES) and all("answer" not in q for q in attempt.questions)
    wrong = {position: (choice + 1) % 4 for position, choice in _right(attempt).items()}
    failed = analyst.submit_training(attempt, wrong)
    assert not failed.passed and failed.score == 0
    assert len(failed.review_sections) >= 5 and all(PROFILE.data["agency"]["policy"] in s for s in failed.review_sections)
    with pytest.raises(TrainingRequired):
        analyst.open_case(cases[0], "criminal_investigation", justification)
    with superuser.cursor() as cursor:  # the profile's wait after a failed attempt, spent
        cursor.execute("UPDATE alpr.training_attempts SET submitted_at = now() - interval '1 hour' "
                       "WHERE attempt_id = %s", (attempt.attempt_id,))
    attempt = analyst.start_training("initial")
    passed = analyst.submit_training(attempt, _right(attempt))
    assert passed.passed and passed.score == 1 and passed.review_sections == []
    assert analyst.open_case(cases[0], "criminal_investigation", justification)
    with superuser.cursor() as cursor:
        cursor.execute("SELECT kind, score, trainer FROM alpr.training_records t JOIN alpr.users u USING (user_id) "
                       "WHERE u.login = %s", (login,))
        assert cursor.fetchall() == [("initial", 1, "policy quiz (graded by the database)")]
    with pytest.raises(NotAuthorized):  # nor can a trainee write their own record
        analyst.record_training(login, "Self-awarded", "initial", "x", 1.0)


def test_a_lapsed_user_is_refused_until_the_refresher_quiz_is_passed(fresh_analyst, cases, superuser):
    login, analyst = fresh_analyst(trained=False)
    with superuser.cursor() as cursor:  # trained 400 days ago: the annual refresher is overdue
        cursor.execute("INSERT INTO alpr.training_records (user_id, course, kind, version, score, passed, completed_at) "
                       "SELECT user_id, 'course', 'initial', 'old', 0.9, true, now() - interval '400 days' "
                       "FROM alpr.users WHERE login = %s", (login,))
    with pytest.raises(TrainingRequired, match="expired"):
        analyst.open_case(cases[0], "criminal_investigation", "Shooting series: back after a long absence")
    quiz = TrainingQuiz(analyst, kind="refresher")
    assert quiz.submit() is None and "Answer every question" in quiz.status.value
    for position, choice in _right(quiz.attempt).items():
        quiz.questions[position].value = choice
    assert quiz.submit().passed and "100%" in quiz.status.value
    assert analyst.open_case(cases[0], "criminal_investigation", "Shooting series: back after a long absence")


def test_audit_review_widget_shows_chain_log_queue_and_map(connect_as, analyst_case):
    review = AuditReview(connect_as("supervisor_sato"), days=2, end=datetime.now(UTC))
    review.user.value = "analyst_avery"
    records = review.run()
    assert len(records) > 0 and set(records["db_user"]) == {"analyst_avery"}
    assert "Audit chain intact" in review.chain.value
    assert "workbench-map" in review.map_box.children[0].value
    assert review.queue is not None and review.signoff_record.options
    audit_id = review.signoff_record.options[0][1]
    review.signoff_record.value = audit_id
    review.signoff_finding.value = "Reviewed with the analyst; within the case's scope"
    review.sign_off()
    assert "signed off" in review.signoff_status.value
    assert bool(review.queue.loc[review.queue["audit_id"] == audit_id, "signed_off"].iloc[0])


def test_the_sample_citys_planted_history_raises_each_flag_on_its_example(settings, connect_as, cases):
    from workbench.sample.activity import plant_audit_history

    start = datetime.now(UTC)
    history = plant_audit_history(settings, PROFILE, END)
    queue = _queue_since(connect_as, start)
    expected = {"deactivated_account", "boilerplate_justification", "sensitive_place", "over_scope",
                "disproportionate_scope", "case_many_plates", "foreign_access_id", "plate_under_many_cases",
                "deleted_data_search"}
    assert set(history.planted) == expected
    for flag, audit_ids in history.planted.items():
        assert set(audit_ids) <= _flagged(queue, flag), flag
    ordinary = queue[queue["audit_id"].isin(history.ordinary)]
    assert all(set(flags) <= {"unusual_hour"} for flags in ordinary["flags"]), ordinary[["audit_id", "flags", "why"]].to_dict("records")


def test_report_command_line_writes_the_public_report(settings, tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "transparency.html"
    done = subprocess.run([sys.executable, "-m", "workbench", "report", "transparency", "--user", "supervisor_sato",
                           "--from", "2026-01-01", "--out", str(out)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "WORKBENCH_DATABASE": settings.database,
                               "WORKBENCH_PASSWORD": PASSWORDS["supervisor_sato"]})
    assert done.returncode == 0, done.stderr
    assert "ALPR public transparency report" in out.read_text() and "analyst_avery" not in out.read_text()
    refused = subprocess.run([sys.executable, "-m", "workbench", "report", "audit", "--user", "analyst_avery",
                              "--out", str(tmp_path / "no.html")], capture_output=True, text=True, timeout=300,
                             env={**os.environ, "WORKBENCH_DATABASE": settings.database,
                                  "WORKBENCH_PASSWORD": PASSWORDS["analyst_avery"]})
    assert refused.returncode != 0 and "permission denied" in refused.stderr
