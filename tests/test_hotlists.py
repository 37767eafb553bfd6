"""Hot lists: import (all or nothing), exact and look-alike hits with the verification warning,
verification, registration under a case, expiry and cancellation. Real PostGIS, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import InvalidQuery, NotAuthorized
from workbench.sample.generator import scenarios

from .conftest import END, RECENT_LOG, audit_rows, last_audit_id

SAMPLE_HOTLIST = Path(__file__).resolve().parent.parent / "sample_data" / "hotlist_felony_wants.csv"
PLAN = scenarios(END)
WINDOW = (END - timedelta(days=120), END + timedelta(days=1))


def store_count(superuser, sql: str, *args) -> int:
    with superuser.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchone()[0]


@pytest.fixture(scope="module")
def imported(connect_as):
    admin = connect_as("admin_adams")
    result = admin.import_hotlist("Felony wants (test)", "LBPD bulletins", SAMPLE_HOTLIST)
    admin.match_hotlists(*WINDOW)
    return result


def test_import_reports_what_it_added(imported, connect_as):
    assert (imported.added, imported.already_listed) == (3, 0)
    again = connect_as("admin_adams").import_hotlist("Felony wants (test)", "LBPD bulletins", SAMPLE_HOTLIST)
    assert (again.added, again.already_listed) == (0, 3)


def test_hits_are_exact_and_lookalike_with_the_verification_warning(imported, analyst_case, superuser):
    hits = analyst_case.hits(*WINDOW).to_dataframe()
    suspect = hits[hits["listed_plate"] == PLAN.suspect_plate]
    expected_exact = store_count(superuser, "SELECT count(*) FROM alpr.reads WHERE plate = %s AND read_at >= %s "
                                 "AND read_at < %s", PLAN.suspect_plate, *WINDOW)
    assert (suspect["match_kind"] == "exact").sum() == expected_exact > 0
    misread = suspect[suspect["match_kind"] == "lookalike"]
    assert list(misread["plate"]) == [PLAN.lookalike_misread]
    assert set(hits["warning"]) == {"verify through CLETS/NCIC and against the image before action"}
    assert not analyst_case.hits(*WINDOW).unverified().empty


def test_expired_entries_do_not_match(imported, analyst_case):
    hits = analyst_case.hits(*WINDOW).to_dataframe()
    assert PLAN.companions[1] not in set(hits["listed_plate"])  # its entry expired in 2020
    assert PLAN.companions[0] in set(hits["listed_plate"])


def test_verifying_a_hit_is_recorded_and_audited(imported, analyst_case, superuser):
    hit = analyst_case.hits(*WINDOW).to_dataframe().iloc[0]
    before = last_audit_id(superuser)
    recorded = analyst_case.verify_hit(int(hit["hit_id"]), True, "Image matches; CLETS query 26-0042 confirms the want")
    assert recorded.details == {"hit_id": int(hit["hit_id"]), "confirmed": True}
    again = analyst_case.hits(*WINDOW).to_dataframe().set_index("hit_id").loc[hit["hit_id"]]
    assert again["hit_verified_by"] == "analyst_avery" and again["verification_note"].startswith("confirmed: ")
    assert [r["function_name"] for r in audit_rows(superuser, before)][:1] == ["verify_hit"]
    with pytest.raises(InvalidQuery, match="at least 10 characters"):
        analyst_case.verify_hit(int(hit["hit_id"]), True, "ok")


def test_a_registered_plate_becomes_a_hit_until_cancelled(analyst_case, connect_as, superuser):
    plate = PLAN.decoy_plates[0]
    recorded = analyst_case.register_plate(plate, "Decoy vehicle near scene 1; follow up its owner",
                                           datetime.now(UTC) + timedelta(days=30), state="CA")
    assert f"{plate} registered under case {analyst_case.case_number}" in recorded.message
    assert recorded.details["plate"] == plate and recorded.details["entry_id"] > 0
    admin = connect_as("admin_adams")
    admin.match_hotlists(*WINDOW)
    hits = analyst_case.hits(*WINDOW).to_dataframe()
    assert plate in set(hits["listed_plate"])
    entry_id = store_count(superuser, "SELECT entry_id FROM alpr.hotlist_entries WHERE plate = %s AND case_number = %s",
                           plate, analyst_case.case_number)
    admin.cancel_hotlist_entry(entry_id, "Owner cleared by the investigator; want entered in error")
    with superuser.cursor() as cursor:
        cursor.execute("SELECT cancelled_by, cancel_reason FROM alpr.hotlist_entries WHERE entry_id = %s", (entry_id,))
        assert cursor.fetchone() == ("admin_adams", "Owner cleared by the investigator; want entered in error")
        cursor.execute("DELETE FROM alpr.hits WHERE entry_id = %s", (entry_id,))
    admin.match_hotlists(*WINDOW)
    assert plate not in set(analyst_case.hits(*WINDOW).to_dataframe()["listed_plate"])
    with pytest.raises(InvalidQuery, match="no active hot-list entry"):
        admin.cancel_hotlist_entry(entry_id, "Cancelling it a second time by mistake")


@pytest.mark.parametrize(("rows", "message"), [
    ([{"plate": "7W'; DROP TABLE alpr.reads;--", "reason": "x"}], "row 1: plate"),
    ([{"plate": "7WXB124", "reason": ""}], "row 1: a reason is required"),
    ([{"plate": "7WXB124", "reason": "ok reason", "state": "California"}], "row 1: state"),
    ([{"plate": "7WXB124", "reason": "ok", "expires_at": "next tuesday"}, {"plate": "", "reason": "r"}],
     "fix 2 row(s)"),
])
def test_a_bad_hotlist_is_refused_whole_naming_the_rows(connect_as, superuser, rows, message):
    before = store_count(superuser, "SELECT count(*) FROM alpr.hotlist_entries")
    with pytest.raises(InvalidQuery, match="nothing imported") as refused:
        connect_as("admin_adams").import_hotlist("Bad list (test)", "test", pd.DataFrame(rows))
    assert message in str(refused.value)
    assert store_count(superuser, "SELECT count(*) FROM alpr.hotlist_entries") == before


def test_a_file_without_the_plate_column_is_refused_before_the_database(connect_as, tmp_path):
    path = tmp_path / "wants.csv"
    path.write_text("tag,why\n7WXB124,robbery\n")
    with pytest.raises(InvalidQuery, match="needs the column"):
        connect_as("admin_adams").import_hotlist("Bad list (test)", "test", path)


def test_data_users_cannot_import_or_match(connect_as, superuser):
    """Not granted at all: PostgreSQL refuses before the function runs, and its log keeps the attempt."""
    analyst = connect_as("analyst_avery")
    with pytest.raises(NotAuthorized, match="hotlist_import is not among the calls this login.s role may make"):
        analyst.import_hotlist("Mine", "me", SAMPLE_HOTLIST)
    with pytest.raises(NotAuthorized, match="hotlist_match is not among the calls this login.s role may make"):
        analyst.match_hotlists(*WINDOW)
    with superuser.cursor() as cursor:
        cursor.execute(RECENT_LOG)
        log = cursor.fetchone()[0]
    assert "permission denied for function hotlist_match" in log
