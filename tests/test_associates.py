"""Associate (convoy) analysis (#22): the sample city's crew (two vehicles travelling together) ranked first,
the commuter who shares two of their cameras by chance explained away by its own traffic, the ranking equal to
a Python oracle over the same reads; pattern-of-life guardrails in the database: only for the profile's
purposes, a supervisor's approval above its window, the associates in the audit row, a review-queue flag."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from pyproj import Geod

from workbench.errors import AccessDenied, ApprovalRequired
from workbench.policy import load_profile
from workbench.sample.generator import scenarios

from .conftest import END, audit_rows, last_audit_id

PLAN = scenarios(END)
CREW, PARTNER = PLAN.companions
WINDOW = (END - timedelta(days=30), END)
CONFIG = load_profile("lapd").data["associates"]


def oracle(superuser, plate: str, start, end, within_s: int, min_places: int) -> list[dict]:
    """The ranking computed in Python from the raw reads (the store owner's view)."""
    with superuser.cursor() as cursor:
        cursor.execute("SELECT camera_id, ST_Y(location::geometry), ST_X(location::geometry) FROM alpr.cameras")
        cameras = {c: (lat, lon) for c, lat, lon in cursor.fetchall() if lat is not None}  # mobile units: none
        cursor.execute("SELECT read_id, plate, read_at, camera_id, ST_Y(location::geometry), ST_X(location::geometry), "
                       "heading_deg FROM alpr.reads WHERE read_at >= %s AND read_at < %s AND logically_deleted_at IS NULL",
                       (start, end))
        reads = cursor.fetchall()
    geod = Geod(ellps="WGS84")
    targets = sorted((r for r in reads if r[1] == plate), key=lambda r: r[2])[:CONFIG["max_target_reads"]]
    near = {}
    for t in targets:
        near[t[0]] = {c for c, (lat, lon) in cameras.items()
                      if geod.inv(t[5], t[4], lon, lat)[2] <= CONFIG["adjacent_m"]} | {t[3]}
    found: dict[str, dict] = {}
    for t in targets:
        for r in reads:
            if r[1] == plate or r[3] not in near[t[0]] or abs((r[2] - t[2]).total_seconds()) > within_s:
                continue
            if t[6] is not None and r[6] is not None and abs((r[6] - t[6] + 540) % 360 - 180) > 90:
                continue
            entry = found.setdefault(r[1], {"targets": set(), "cameras": set(), "days": set()})
            entry["targets"].add(t[0])
            entry["cameras"].add(r[3])
            entry["days"].add(r[2].astimezone(END.tzinfo).date())
    days = max(1.0, (end - start).total_seconds() / 86400)
    ranked = []
    for other, entry in found.items():
        if len(entry["cameras"]) < min_places:
            continue
        passes = sum(1 for t in targets for r in reads if r[1] == other and r[3] in near[t[0]]
                     and r[2].astimezone(END.tzinfo).hour == t[2].astimezone(END.tzinfo).hour)
        expected = passes * 2 * within_s / (days * 3600)
        k = len(entry["targets"])
        chance = 1.0 if k <= 0 else (0.0 if expected <= 0 else max(
            0.0, 1 - sum(math.exp(-expected) * expected ** i / math.factorial(i) for i in range(k))))
        ranked.append({"plate": other, "co_occurrences": k, "cameras": len(entry["cameras"]), "days": len(entry["days"]),
                       "expected": expected, "chance": chance})
    return sorted(ranked, key=lambda a: (a["chance"], -a["co_occurrences"], a["plate"]))


def test_the_crew_is_ranked_first_and_the_commuter_explained_by_chance(analyst_case, superuser):
    result = analyst_case.associates(CREW, *WINDOW, within=timedelta(minutes=2), min_places=2)
    ranking = result.associates
    assert ranking.iloc[0]["plate"] == PARTNER and ranking.iloc[0]["co_occurrences"] >= 5
    crew = ranking.iloc[0]
    assert crew["why"].startswith(f"seen with the target {crew['co_occurrences']} times at {crew['cameras']} cameras")
    assert crew["expected_by_chance"] < 0.1 and crew["chance"] < 1e-9 and "by chance about" in crew["why"]
    commuter = ranking[ranking["plate"] == PLAN.commuter_plate].iloc[0]
    assert commuter["co_occurrences"] == 2 and commuter["cameras"] == 2
    # Its own daily passes at those cameras and hours make two meetings expected far more often.
    assert commuter["expected_by_chance"] > 5 * crew["expected_by_chance"]
    assert commuter["chance"] > 1e6 * crew["chance"] and commuter["chance"] > 1e-3
    expected = oracle(superuser, CREW, *WINDOW, 120, 2)
    assert [a["plate"] for a in expected] == ranking["plate"].tolist()
    for mine, theirs in zip(ranking.to_dict("records"), expected, strict=True):
        assert (mine["co_occurrences"], mine["cameras"], mine["days"]) == (
            theirs["co_occurrences"], theirs["cameras"], theirs["days"])
        assert mine["expected_by_chance"] == pytest.approx(theirs["expected"], abs=1e-4)
    shared = result.sightings_of(PARTNER)
    assert len(shared) >= ranking.iloc[0]["co_occurrences"] and shared["seconds_apart"].abs().max() <= 120
    html = result.map().get_root().render()
    assert f"target {CREW}" in html and f"associate {PARTNER}" in html


def test_the_associates_are_in_the_audit_row_and_flagged(analyst_case, superuser, connect_as):
    before = last_audit_id(superuser)
    result = analyst_case.associates(CREW, *WINDOW)
    record = [r for r in audit_rows(superuser, before) if r["function_name"] == "associates"][-1]
    assert record["outcome"] == "granted" and record["parameters"]["plate"] == CREW
    assert "associate_analysis" in record["flags"]
    with superuser.cursor() as cursor:
        cursor.execute("SELECT scope FROM alpr.audit_log WHERE audit_id = %s", (record["audit_id"],))
        scope = cursor.fetchone()[0]
    assert scope["associates"] == result.associates["plate"].tolist()
    now = datetime.now(UTC)  # audit records are dated when they were written
    queue = connect_as("supervisor_sato").review_queue(now - timedelta(days=1), now + timedelta(minutes=5))
    flagged = queue[queue["audit_id"] == record["audit_id"]]
    assert len(flagged) and "associate analysis" in " ".join(map(str, flagged.astype(str).values.ravel()))


def test_only_for_the_profiles_purposes_and_audited_when_refused(connect_as, cases, superuser):
    civil = connect_as("analyst_avery").open_case(cases[1], "civil_investigation",
                                                   "Civil matter: vehicle ownership dispute, plate seen in the lot")
    before = last_audit_id(superuser)
    with pytest.raises(AccessDenied, match="allowed only for criminal_investigation, cognizable_threat"):
        civil.associates(CREW, *WINDOW)
    denied = [r for r in audit_rows(superuser, before) if r["function_name"] == "associates"]
    assert denied and denied[0]["outcome"] == "denied" and "associate_analysis" in denied[0]["flags"]


def test_a_window_above_the_profiles_needs_a_supervisors_approval(analyst_case, connect_as):
    start = END - timedelta(days=60)
    with pytest.raises(ApprovalRequired, match="above the 30 days"):
        analyst_case.associates(CREW, start, END)
    request = analyst_case.request_scope_approval("associates", "Crew suspected in four robberies since August; "
                                                  "the partner vehicle's earlier trips are needed", window_hours=60 * 24)
    connect_as("supervisor_sato").decide_scope_approval(request, True, "Serious offences, 60 days proportionate")
    approved = analyst_case.associates(CREW, start, END)
    assert approved.associates.iloc[0]["plate"] == PARTNER


def test_the_raw_connection_gets_nothing_before_the_audit_commits(raw_as, analyst_case):
    """The attack of #15 on this function: in a rolled-back transaction the answer is a handle only."""
    connection = raw_as("analyst_avery")
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT * FROM api.associates(%s, %s, %s, %s)",
                       (str(analyst_case.grant.access_id), CREW, WINDOW[0], WINDOW[1]))
        with_crew = cursor.fetchone()
        names = [c.name for c in cursor.description]
        cursor.execute("SELECT * FROM api.associates(%s, %s, %s, %s)",
                       (str(analyst_case.grant.access_id), "ZZZ9999", WINDOW[0], WINDOW[1]))
        without = cursor.fetchone()
        cursor.execute("ROLLBACK")
    shown = lambda row: {k: v for k, v in zip(names, row, strict=True) if k not in ("result_id", "audit_id")}  # noqa: E731
    assert shown(with_crew) == shown(without)
