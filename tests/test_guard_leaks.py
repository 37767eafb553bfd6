"""The guard against its own legitimate functions, attacked as a data user's raw connection would: nothing
before the audit commits, no wholesale extraction through granted calls, no silent caps, approvals and
export destinations that are logins and agencies on file, justifications that say something, and none of
the small leaks PostgreSQL grants by default. Each attack is tried and shown refused or harmless."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

import workbench
from workbench.access import Scene
from workbench.errors import BudgetReached, InvalidJustification, InvalidPurpose, NotAuthorized
from workbench.plates import matches, parse_pattern
from workbench.policy import load_profile
from workbench.sample.generator import scenarios
from workbench.training import build_questions

from .conftest import END, PASSWORDS, audit_rows, last_audit_id

PLAN = scenarios(END)
SEARCH = load_profile("lapd").data["search"]
RIGHT_CHOICES = {q.question: q.choices[q.answer] for q in build_questions(load_profile("lapd"))}
WINDOW = (END - timedelta(days=90), END)
EMPTY = (END - timedelta(days=1500), END - timedelta(days=1490))  # before the sample city's first read


def _queue(connect_as):
    now = datetime.now(UTC)
    return connect_as("supervisor_sato").review_queue(now - timedelta(hours=6), now + timedelta(minutes=5))


def _rolled_back(connection, sql: str, params: tuple) -> dict:
    """What a call tells a caller who rolls it back: its columns, less the handle and the audit row's number."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        row = dict(zip(names, cursor.fetchone(), strict=True))
        if row.get("result_id"):  # and the handle cannot be fetched inside the transaction either
            cursor.execute("SAVEPOINT probe")
            with pytest.raises(psycopg2.Error, match="not available until the query that produced it has committed"):
                cursor.execute("SELECT api.fetch_result(%s)", (row["result_id"],))
            cursor.execute("ROLLBACK TO SAVEPOINT probe")
    connection.rollback()
    return {key: value for key, value in row.items() if key not in ("result_id", "audit_id")}


def _busiest_camera(superuser) -> str:
    with superuser.cursor() as cursor:
        cursor.execute("SELECT camera_id FROM alpr.reads WHERE read_at >= %s AND read_at < %s GROUP BY 1 "
                       "ORDER BY count(*) DESC LIMIT 1", WINDOW)
        return cursor.fetchone()[0]


def test_a_rolled_back_call_tells_nothing_that_depends_on_the_data(raw_as, analyst_case, superuser):
    """The attack: BEGIN; call one plate a day or one camera at a time; read the counts; ROLLBACK. Every data
    function now answers a plate with sightings exactly as one without: a handle, and nothing else."""
    analyst = raw_as("analyst_avery")
    access = analyst_case.grant.access_id
    before = last_audit_id(superuser)
    busy = _busiest_camera(superuser)
    with superuser.cursor() as cursor:
        cursor.execute("SELECT read_id FROM alpr.reads WHERE plate = %s ORDER BY read_at LIMIT 1", (PLAN.suspect_plate,))
        a_read = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(hit_id), 0) FROM alpr.hits")
        a_hit = cursor.fetchone()[0]
    scene = PLAN.scenes[0]
    at_scene = json.dumps([{"label": "scene", "area": {"type": "circle", "lat": scene.lat, "lon": scene.lon, "radius_m": 300},
                            "from": (scene.at - timedelta(hours=2)).isoformat(), "to": (scene.at + timedelta(hours=2)).isoformat()}])
    at_sea = json.dumps([{"label": "sea", "area": {"type": "circle", "lat": 33.70, "lon": -118.30, "radius_m": 300},
                          "from": (scene.at - timedelta(hours=2)).isoformat(), "to": (scene.at + timedelta(hours=2)).isoformat()}])
    probes = [
        ("SELECT * FROM api.plate_history(%s, %s, %s, %s, false)", (access, PLAN.suspect_plate, *WINDOW),
         (access, "QQ9999Q", *WINDOW)),
        ("SELECT * FROM api.search_plates(%s, %s, %s, %s, true, 1, NULL, %s)",
         (access, PLAN.witness_pattern, *WINDOW, json.dumps({"cameras": [busy]})),
         (access, PLAN.witness_pattern, *EMPTY, json.dumps({"cameras": [busy]}))),
        ("SELECT * FROM api.search_plates(%s, %s, %s, %s)", (access, PLAN.witness_pattern, *WINDOW),
         (access, "QQ??Q9?", *WINDOW)),
        ("SELECT * FROM api.canvass(%s, %s, 1)", (access, at_scene), (access, at_sea)),
        ("SELECT * FROM api.read_image(%s, %s)", (access, a_read), (access, 10**15)),
        ("SELECT * FROM api.legal_hold_request(%s, %s, %s, %s, 'Evidence of the shooting series for trial', 'Det. Ito x5521')",
         (access, PLAN.suspect_plate, *WINDOW), (access, "QQ9999Q", *WINDOW)),
        ("SELECT * FROM api.verify_hit(%s, %s, true, 'Image and CLETS checked by the analyst')", (access, a_hit),
         (access, 10**12)),
        ("SELECT * FROM api.hits(%s, %s, %s)", (access, *WINDOW), (access, *EMPTY)),
    ]
    for sql, with_data, without_data in probes:
        seen = _rolled_back(analyst, sql, with_data)
        assert seen == _rolled_back(analyst, sql, without_data), sql
        assert seen["outcome"] == "accepted" and seen["row_count"] is None and seen["message"] is None, sql
    assert audit_rows(superuser, before) == []  # all rolled back: the second record (pgAudit) is what keeps them


def test_a_broad_pattern_is_judged_by_what_it_selects(analyst_case, superuser):
    """`*` with a set of all 36 characters is no known character; a pattern that selects too many plates of the
    dictionary needs an area, and is refused without saying how many it would have matched."""
    every = "[" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + "]"
    digits = "[0123456789]"
    for pattern in (f"*{every}", f"*{digits}{digits}{digits}", f"{digits}{digits}[08]*"):
        with pytest.raises(workbench.InvalidPattern, match="no known character|fewer than 3 known"):
            analyst_case.search_plates(pattern, END - timedelta(days=20), END)
    # Four known characters, yet with two mistakes and look-alikes the pattern selects hundreds of plates.
    parsed = parse_pattern("7??B12?")
    with superuser.cursor() as cursor:
        cursor.execute("SELECT plate FROM alpr.plates")
        selected = sum(1 for (plate,) in cursor.fetchall() if matches(parsed, plate, True, 2) is not None)
    assert selected > SEARCH["max_plates_without_area"]
    before = last_audit_id(superuser)
    with pytest.raises(workbench.InvalidPattern, match="too many different plates") as refused:
        analyst_case.search_plates("7??B12?", END - timedelta(days=20), END, lookalike=True, max_mistakes=2)
    assert str(selected) not in str(refused.value).split("[audit")[0]
    assert audit_rows(superuser, before)[-1]["reason"] == "pattern_too_broad"
    area = {"type": "circle", "lat": PLAN.scenes[0].lat, "lon": PLAN.scenes[0].lon, "radius_m": 1500}
    analyst_case.search_plates("7??B12?", END - timedelta(days=20), END, lookalike=True, max_mistakes=2, area=area)


def test_wholesale_extraction_stops_at_the_budget_until_a_supervisor_approves(fresh_analyst, connect_as, cases,
                                                                              policy_values, superuser):
    """The attack that took the whole sample city: sweep areas and windows, across cases. One login gets at most its
    budget of distinct plates a day, the refusal names the budget (never the matches), the harvest is flagged at
    once, and only an approval a supervisor gives in their own session lets more through."""
    policy_values(access__budget__plates_per_day=60, access__budget__reads_per_day=400,
                  access__budget__plates_per_case=45, access__budget__reads_per_case=300,
                  access__budget__harvest_min_plates=30)
    login, analyst = fresh_analyst()
    given: set[str] = set()
    refusals = []
    for case_number in cases[:2]:
        case = analyst.open_case(case_number, "criminal_investigation", "Robbery series: reads around the banks hit")
        for day in range(40):
            scene = PLAN.scenes[day % len(PLAN.scenes)]
            at = END - timedelta(days=day, hours=day % 7)
            try:
                result = case.canvass([Scene("sweep", at - timedelta(hours=6), at + timedelta(hours=6), lat=scene.lat,
                                             lon=scene.lon, radius_m=600)])
            except BudgetReached as refused:
                refusals.append(refused)
                break
            given |= set(result.reads["plate"])
    assert refusals and len(given) <= 60
    message = str(refusals[-1])
    assert "daily budget of 60 distinct plates" in message or "under case" in message
    queue = _queue(connect_as)
    harvest = queue[queue["flags"].map(lambda flags: "harvesting" in flags) & (queue["db_user"] == login)]
    assert len(harvest) >= 1
    with superuser.cursor() as cursor:
        cursor.execute("SELECT plates FROM alpr.disclosure_totals WHERE db_user = %s AND scope = 'day'", (login,))
        assert cursor.fetchone()[0] == len(given)
    # An approval the analyst cannot give themselves; the supervisor gives it in their own session.
    case = analyst.open_case(cases[0], "criminal_investigation", "Robbery series: reads around the banks hit")
    request = case.request_scope_approval("budget", "Series spans 40 days of bank robberies; need the wider sweep",
                                          plates=500, reads=5000)
    with pytest.raises(NotAuthorized):
        analyst.decide_scope_approval(request, True, "Approving my own budget")
    connect_as("supervisor_sato").decide_scope_approval(request, True, "Robbery series, sweep approved for a week")
    scene = PLAN.scenes[0]
    more = case.canvass([Scene("after approval", scene.at - timedelta(hours=2), scene.at + timedelta(hours=2),
                               lat=scene.lat, lon=scene.lon, radius_m=300)])
    with superuser.cursor() as cursor:
        cursor.execute("SELECT scope ->> 'budget_approval_id' FROM alpr.audit_log WHERE audit_id = %s", (more.audit_id,))
        assert int(cursor.fetchone()[0]) == request.approval_id


def test_a_capped_result_says_so_in_the_result_and_the_audit_row(analyst_case, policy_values, superuser):
    policy_values(search__max_result_rows=25)
    area = {"type": "circle", "lat": PLAN.scenes[0].lat, "lon": PLAN.scenes[0].lon, "radius_m": 3000}
    start, end = END - timedelta(days=30), END
    with superuser.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM alpr.reads WHERE plate LIKE '7%%' AND read_at >= %s AND read_at < %s "
                       "AND logically_deleted_at IS NULL AND ST_DWithin(location, ST_MakePoint(%s, %s)::geography, 3000)",
                       (start, end, area["lon"], area["lat"]))
        total = cursor.fetchone()[0]
    assert total > 25
    result = analyst_case.search_plates("7*", start, end, area=area)
    assert len(result) == 25 and result.capped["shown"] == 25 and result.capped["total"] == total
    assert f"first 25 of {total:,}" in result.cap_note and "narrow" in result.cap_note
    with superuser.cursor() as cursor:
        cursor.execute("SELECT scope -> 'capped' FROM alpr.audit_log WHERE audit_id = %s", (result.audit_id,))
        assert cursor.fetchone()[0]["total"] == total
    history = analyst_case.plate_history(PLAN.suspect_plate, END - timedelta(days=90), END)
    assert history.capped is None or history.capped["shown"] == 25


def test_an_export_goes_to_the_case_file_or_an_approved_agency_only(raw_as, analyst_case, connect_as, superuser):
    analyst = raw_as("analyst_avery")
    history = analyst_case.plate_history(PLAN.suspect_plate, *WINDOW)
    before = last_audit_id(superuser)
    with analyst.cursor() as cursor:
        cursor.execute("SELECT outcome, reason_code FROM api.record_export(%s, %s::uuid[], 'csv', 36, %s, %s)",
                       (analyst_case.grant.access_id, [history.result_id], "0" * 64, "ICE field office, Los Angeles"))
        assert cursor.fetchone() == ("denied", "export_destination_refused")
    analyst.commit()
    refusal = audit_rows(superuser, before)[-1]
    assert "export_refused" in refusal["flags"]
    queue = _queue(connect_as)
    assert "export_refused" in queue.loc[queue["audit_id"] == refusal["audit_id"], "flags"].item()


@pytest.mark.parametrize(("justification", "reason"), [
    ("x" * 20, "vague_justification"),
    ("investigation investigation", "vague_justification"),
    ("investigation " * 6, "vague_justification"),
    ("Lorem ipsum dolor sit amet, consectetur adipiscing", "vague_justification"),
    ("ＩＮＶＥＳＴＩＧＡＴＩＯＮ ＩＮＶＥＳＴＩＧＡＴＩＯＮ", "vague_justification"),
    ("\u200b" * 25, "vague_justification"),
    ("\u00a0" * 25, "vague_justification"),
    ("\t" * 25, "vague_justification"),
    ("asdf qwer zxcv tyui ghjk bnml", "vague_justification"),
    ("locate an undocumented person for ICE removal", "prohibited_purpose"),
    ("Find the car of my ex girlfriend for a personal matter", "prohibited_purpose"),
])
def test_a_justification_must_say_why_in_words(connect_as, cases, superuser, justification, reason):
    before = last_audit_id(superuser)
    with pytest.raises((InvalidJustification, InvalidPurpose)) as refused:
        connect_as("analyst_avery").open_case(cases[0], "criminal_investigation", justification)
    assert refused.value.reason == reason
    assert audit_rows(superuser, before)[-1]["reason"] == reason


def test_a_justification_that_reads_like_a_prohibited_purpose_is_flagged(connect_as, cases):
    access = connect_as("analyst_avery").open_case(cases[0], "criminal_investigation",
                                                   "Vehicles seen near the protest where the robbery suspect fled")
    queue = _queue(connect_as)
    row = queue[queue["audit_id"] == access.grant.audit_id].iloc[0]
    assert "prohibited_text" in row["flags"] and any("first amendment monitoring" in why for why in row["why"])


@pytest.mark.parametrize("purpose", ["IMMIGRATION_ENFORCEMENT", "іmmіgratіon_enforcement", "Immigration Enforcement",
                                     "ｉｍｍｉｇｒａｔｉｏｎ_ｅｎｆｏｒｃｅｍｅｎｔ"])
def test_a_disguised_prohibited_purpose_is_refused_as_that_purpose_and_flagged(connect_as, cases, superuser, purpose):
    before = last_audit_id(superuser)
    with pytest.raises(InvalidPurpose, match="prohibited"):
        connect_as("analyst_avery").open_case(cases[0], purpose, "Shooting series: the witness gave a partial plate")
    row = audit_rows(superuser, before)[-1]
    assert row["reason"] == "prohibited_purpose" and {"prohibited_purpose", "disguised_purpose"} <= set(row["flags"])


def test_a_purpose_in_another_case_is_that_purpose(connect_as, cases):
    access = connect_as("analyst_avery").open_case(cases[0], "Criminal Investigation",
                                                   "Shooting series: the witness gave a partial plate")
    assert access.grant.purpose == "criminal_investigation"


@pytest.mark.parametrize("sql", [
    "SELECT lo_create(0)",
    "SELECT lo_from_bytea(0, 'loot')",
    "SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'audit_log'",
    "SELECT n_live_tup FROM pg_stat_all_tables WHERE relname = 'reads_y2026m10'",
    "SELECT pg_stat_get_live_tuples('alpr.audit_log'::regclass)",
    "SELECT pg_relation_size('alpr.audit_log')",
    "SELECT pg_total_relation_size('alpr.reads_y2026m10')",
    "SELECT reltuples FROM pg_class WHERE relname = 'audit_log'",
    "SELECT pg_advisory_lock(42)",
    "SELECT pg_try_advisory_xact_lock(42)",
])
def test_what_postgresql_grants_by_default_is_not_a_data_users(raw_as, sql):
    analyst = raw_as("analyst_avery")
    with analyst.cursor() as cursor, pytest.raises(psycopg2.Error) as refused:
        cursor.execute(sql)
    analyst.rollback()
    assert refused.value.pgcode == "42501", sql


def test_a_data_user_connects_to_the_workbench_database_only(settings, raw_as):
    from workbench import db

    url = db.user_url(settings, "analyst_avery", PASSWORDS["analyst_avery"])
    for other in ("postgres", "template1"):
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            psycopg2.connect(host=url.host, port=url.port, user=url.username, password=url.password, dbname=other)
    raw_as("analyst_avery").close()  # the workbench database itself, yes


def test_every_api_function_a_data_user_holds_checks_an_access_session(superuser):
    """From the catalog, not a list: a function granted to data users either takes the access id first (and so
    checks case, purpose, role, training and account) or is one of the few that hold no ALPR data."""
    sessionless = {"open_access", "fetch_result", "whoami", "policy_summary", "cameras", "sample_info",
                   "sensitive_places", "start_training", "submit_training"}
    with superuser.cursor() as cursor:
        cursor.execute("SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.prosecdef, p.proconfig "
                       "FROM pg_proc p WHERE p.pronamespace = 'api'::regnamespace "
                       "AND has_function_privilege('workbench_user', p.oid, 'EXECUTE')")
        granted = cursor.fetchall()
    assert len(granted) >= 15
    for name, arguments, security_definer, config in granted:
        assert security_definer and any(c.startswith("search_path=") for c in config or []), name
        assert name in sessionless or arguments.startswith("p_access_id uuid"), f"{name}({arguments})"
    assert "search_deleted" not in {name for name, *_ in granted}


def test_every_api_function_of_another_role_is_refused_to_a_data_user(raw_as, superuser):
    with superuser.cursor() as cursor:
        cursor.execute("SELECT p.oid::regprocedure::text, pronargs FROM pg_proc p WHERE p.pronamespace = 'api'::regnamespace "
                       "AND NOT has_function_privilege('workbench_user', p.oid, 'EXECUTE')")
        others = cursor.fetchall()
    assert len(others) >= 20
    analyst = raw_as("analyst_avery")
    for signature, arity in others:
        name = signature.split("(")[0]
        with analyst.cursor() as cursor, pytest.raises(psycopg2.Error) as refused:
            cursor.execute(f"SELECT {name}({', '.join(['NULL'] * arity)})")
        analyst.rollback()
        assert refused.value.pgcode == "42501", signature


def test_a_deactivated_login_fetching_a_result_is_referred_to_professional_standards(fresh_analyst, connect_as, cases,
                                                                                     superuser):
    login, analyst = fresh_analyst()
    case = analyst.open_case(cases[0], "criminal_investigation", "Shooting series: the witness gave a partial plate")
    handle = analyst._call("plate_history", access_id=case.grant.access_id, plate=PLAN.suspect_plate,
                           start=WINDOW[0].isoformat(), end=WINDOW[1].isoformat(), lookalike=False)[0]
    connect_as("admin_adams").set_active(login, False, "Separated from the department")
    before = last_audit_id(superuser)
    with pytest.raises(workbench.AccountDeactivated):
        analyst._collect(str(handle.result_id))
    row = audit_rows(superuser, before)[-1]
    assert row["function_name"] == "fetch_result" and "professional_standards_review" in row["flags"]


def test_a_fetch_of_another_logins_result_is_refused_and_flagged(raw_as, analyst_case, superuser):
    history = analyst_case.plate_history(PLAN.suspect_plate, *WINDOW)
    other = raw_as("investigator_ito")
    with other.cursor() as cursor:
        cursor.execute("SELECT api.fetch_result(%s)", (history.result_id,))
        answer = cursor.fetchone()[0]
    other.commit()
    assert (answer["outcome"], answer["reason_code"], answer.get("payload")) == ("denied", "access_not_yours", None)
    assert "foreign_access_id" in audit_rows(superuser, answer["audit_id"] - 1)[0]["flags"]


def test_the_quiz_reveals_no_answers_shuffles_limits_and_tells_the_trainer(fresh_analyst, connect_as, superuser):
    login, trainee = fresh_analyst(trained=False)
    first = trainee.start_training("initial")
    blob = json.dumps(first.questions)
    assert "answer" not in blob and "explanation" not in blob
    failed = trainee.submit_training(first, {q["position"]: 0 for q in first.questions})
    told = json.dumps(failed.__dict__)
    assert not failed.passed and failed.review_sections
    assert not any(right in told for right in RIGHT_CHOICES.values())  # sections to reread, never the answers
    with pytest.raises(workbench.TrainingRequired, match="opens at"):  # the wait after a failure
        trainee.start_training("initial")
    orders = [[(q["question"], tuple(q["choices"])) for q in first.questions]]
    for _ in range(2):
        with superuser.cursor() as cursor:
            cursor.execute("UPDATE alpr.training_attempts SET submitted_at = now() - interval '1 hour' "
                           "WHERE user_id = (SELECT user_id FROM alpr.users WHERE login = %s)", (login,))
        attempt = trainee.start_training("initial")
        orders.append([(q["question"], tuple(q["choices"])) for q in attempt.questions])
        trainee.submit_training(attempt, {q["position"]: 0 for q in attempt.questions})
    assert len({json.dumps(order) for order in orders}) == 3  # each attempt its own order
    with pytest.raises(workbench.TrainingRequired, match="attempts of today"):
        with superuser.cursor() as cursor:
            cursor.execute("UPDATE alpr.training_attempts SET submitted_at = now() - interval '1 hour' "
                           "WHERE user_id = (SELECT user_id FROM alpr.users WHERE login = %s)", (login,))
        trainee.start_training("initial")
    overview = connect_as("trainer_tran").training_overview()
    mine = overview[overview["login"] == login].iloc[0]
    assert mine["failures_30_days"] == 3 and bool(mine["needs_trainer"])
    queue = _queue(connect_as)
    assert login in set(queue.loc[queue["flags"].map(lambda flags: "training_failures" in flags), "db_user"])


def test_approvals_are_logins_in_their_own_session(fresh_analyst, connect_as, cases):
    """Nobody authorizes themselves; an administrator creates logins but authorization is a supervisor's."""
    login, analyst = fresh_analyst()
    with pytest.raises(NotAuthorized):
        analyst.record_authorization(login, "Memo 2026-999: I authorize myself")
    with pytest.raises(NotAuthorized):
        connect_as("admin_adams").record_authorization(login, "Memo 2026-999, typed by the administrator")
    recorded = connect_as("supervisor_sato").record_authorization(login, "Memo 2026-201, robbery unit, need to know")
    assert recorded.details["authorized_by"] == "supervisor_sato"
