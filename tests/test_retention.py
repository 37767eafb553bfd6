"""Retention per profile on a database of its own (the run drops months other tests read): logical
deletion hides reads from data users at once, purge removes them, held reads stay, a dry run and an
interrupted run change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

import workbench
from workbench import migrate
from workbench.errors import NotAuthorized
from workbench.policy import known_profiles, load_profile
from workbench.sample.generator import scenarios
from workbench.sample.load import load_sample, sample_cases, utc_today
from workbench.settings import load_settings

from .conftest import PASSWORDS

DATABASE = "alpr_workbench_test_retention"


@pytest.fixture(scope="module")
def store(settings, admin_url):
    url = admin_url.set(database=DATABASE)
    migrate.fresh_database(url)
    yield url, load_settings({"database": DATABASE})
    migrate.drop_database(url)


def _counts(url, cutoff_logical, cutoff_purge, held_plate):
    connection = migrate.connect_raw(url)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FILTER (WHERE read_at < %(purge)s AND plate <> %(held)s), "
                       "count(*) FILTER (WHERE plate = %(held)s), "
                       "count(*) FILTER (WHERE read_at >= %(purge)s AND read_at < %(logical)s "
                       "                 AND logically_deleted_at IS NULL AND plate <> %(held)s), "
                       "count(*) FILTER (WHERE read_at >= %(logical)s AND logically_deleted_at IS NOT NULL), "
                       "count(*) FROM alpr.reads",
                       {"purge": cutoff_purge, "logical": cutoff_logical or cutoff_purge, "held": held_plate})
        counts = cursor.fetchone()
    connection.close()
    return counts


def _most_deleted_plate(url) -> tuple[str, object, int, int]:
    """The plate with the most logically deleted reads: (plate, its oldest read, deleted reads, visible reads)."""
    connection = migrate.connect_raw(url)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT plate, min(read_at), count(*) FROM alpr.reads WHERE logically_deleted_at IS NOT NULL "
                       "GROUP BY plate ORDER BY count(*) DESC, plate LIMIT 1")
        plate, oldest, deleted = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM alpr.reads WHERE plate = %s AND logically_deleted_at IS NULL", (plate,))
        visible = cursor.fetchone()[0]
    connection.close()
    return plate, oldest, deleted, visible


def _retained(store, seed: int):
    """LAPD profile, a fresh sample, one retention run; returns (url, settings, profile, end, admin)."""
    url, settings = store
    profile = load_profile("lapd")
    migrate.store_profile(url, profile)
    end = utc_today()
    load_sample(url, profile, reads=20_000, seed=seed, end=end, replace=True, progress=False)
    admin = workbench.connect(user="admin_adams", password=PASSWORDS["admin_adams"], settings=settings)
    admin.retention_run(dry_run=False)
    return url, settings, profile, end, admin


@pytest.mark.parametrize("profile_key", known_profiles())
def test_retention_applies_the_profile(store, profile_key):
    url, settings = store
    profile = load_profile(profile_key)
    migrate.store_profile(url, profile)
    end = utc_today()
    load_sample(url, profile, reads=20_000, seed=3, end=end, replace=True, progress=False)
    plan = scenarios(end)
    admin = workbench.connect(user="admin_adams", password=PASSWORDS["admin_adams"], settings=settings)
    dry = admin.retention_run(dry_run=True)
    assert dry["profile"] == profile_key and dry["dry_run"]
    logical = datetime.fromisoformat(dry["logical_cutoff"]) if dry["logical_cutoff"] else None
    purge = datetime.fromisoformat(dry["purge_cutoff"])
    before = _counts(url, logical, purge, plan.held_plate)
    assert before[0] > 0 and before[1] == 8  # old reads to purge; the held vehicle's 8 reads (all old)
    # Interrupted: the whole run is one transaction, so a rollback leaves everything as it was.
    raw = psycopg2.connect(host=url.host, port=url.port, dbname=DATABASE, user="admin_adams",
                           password=PASSWORDS["admin_adams"])
    try:
        with raw.cursor() as cursor:
            cursor.execute("SELECT outcome, row_count, message FROM api.retention_run(false)")
            # its counts depend on the data: parked behind the audit row, so the rolled-back run tells nothing
            assert cursor.fetchone() == ("accepted", None, None)
    finally:
        raw.rollback()
        raw.close()
    assert _counts(url, logical, purge, plan.held_plate) == before
    report = admin.retention_run(dry_run=False)
    after = _counts(url, logical, purge, plan.held_plate)
    assert after[0] == 0, "reads past the purge period remain"
    assert after[1] == 8, "held reads were purged"
    assert after[2] == 0, "reads past the logical period are still visible"
    assert after[3] == 0, "recent reads were hidden"
    assert report["rows_in_dropped_partitions"] + report["rows_deleted"] == before[0]
    assert report["kept_under_legal_hold"] == 8 and report["partitions_dropped"]
    assert admin.retention_run(dry_run=False)["rows_deleted"] == 0  # a rerun finds nothing more
    admin.close()


def test_logically_deleted_reads_are_invisible_to_data_users(store):
    url, settings, profile, end, admin = _retained(store, seed=4)
    plate, oldest, _, visible = _most_deleted_plate(url)
    analyst = workbench.connect(user="analyst_avery", password=PASSWORDS["analyst_avery"], settings=settings)
    case = analyst.open_case(list(sample_cases(profile, end))[0], "criminal_investigation",
                             "Checking that logically deleted reads stay hidden")
    start = oldest - timedelta(days=1)
    assert len(case.plate_history(plate, start, datetime.now(UTC))) == visible
    assert len(case.search_plates(plate, start, datetime.now(UTC))) == visible
    with pytest.raises(NotAuthorized):
        analyst.retention_run(dry_run=True)
    analyst.close()
    admin.close()


def test_search_of_logically_deleted_data_is_narrow_approved_and_flagged(store):
    url, settings, profile, end, admin = _retained(store, seed=5)
    plate, _, deleted, _ = _most_deleted_plate(url)
    connection = migrate.connect_raw(url)
    case_number = list(sample_cases(profile, end))[0]
    window = {"plate": plate, "from": end - timedelta(days=1900), "to": end}
    supervisor = workbench.connect(user="supervisor_sato", password=PASSWORDS["supervisor_sato"], settings=settings)
    case = admin.open_case(case_number, "criminal_investigation", "Homicide follow-up needs the vehicle's old reads")
    why = "Homicide follow-up: the vehicle's reads before logical deletion"
    burglary = case.request_scope_approval("search_deleted", why, details={**window, "category": "burglary"})
    supervisor.decide_scope_approval(burglary.approval_id, True, "Approved in error, to be refused by the profile")
    with pytest.raises(workbench.InvalidPurpose, match="not a qualifying category"):
        case.search_deleted(burglary.approval_id)
    felony = case.request_scope_approval("search_deleted", why, details={**window, "category": "serious_or_violent_felony"})
    with pytest.raises(workbench.ApprovalRequired, match="not approved"):  # pending: a typed name approves nothing
        case.search_deleted(felony.approval_id)
    with pytest.raises(NotAuthorized):  # the administrator cannot approve their own
        admin.decide_scope_approval(felony.approval_id, True, "Approving my own search")
    supervisor.decide_scope_approval(felony.approval_id, True, "Capt. Reyes concurs, memo 26-9, homicide")
    found = case.search_deleted(felony.approval_id)
    assert found.reads["logically_deleted"].sum() == deleted and found.plate == plate
    analyst = workbench.connect(user="analyst_avery", password=PASSWORDS["analyst_avery"], settings=settings)
    analyst_case = analyst.open_case(case_number, "criminal_investigation", "Trying to see purged-from-view reads")
    with pytest.raises(NotAuthorized, match="permission denied"):  # data users hold no grant at all
        analyst_case.search_deleted(felony.approval_id)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT outcome, parameters ->> 'approved_by' FROM alpr.audit_log "
                       "WHERE function_name = 'search_deleted' AND 'deleted_data_search' = ANY (flags) ORDER BY audit_id")
        assert cursor.fetchall() == [("denied", "supervisor_sato"), ("denied", None), ("granted", "supervisor_sato")]
    connection.close()
    for person in (analyst, admin, supervisor):
        person.close()


def test_an_open_transaction_holds_a_retention_run_no_longer_than_its_lock_timeout(store):
    """An analyst sits in a transaction after a search: the run's partition drop gives up after its lock timeout,
    changes nothing and says so (audited), instead of queueing every other reader behind it."""
    url, settings = store
    profile = load_profile("lapd")
    migrate.store_profile(url, profile)
    end = utc_today()
    load_sample(url, profile, reads=20_000, seed=6, end=end, replace=True, progress=False)
    analyst = workbench.connect(user="analyst_avery", password=PASSWORDS["analyst_avery"], settings=settings)
    case = analyst.open_case(list(sample_cases(profile, end))[0], "criminal_investigation",
                             "Shooting series: the suspect vehicle's older sightings")
    sitter = psycopg2.connect(host=url.host, port=url.port, dbname=DATABASE, user="analyst_avery",
                              password=PASSWORDS["analyst_avery"])
    admin = workbench.connect(user="admin_adams", password=PASSWORDS["admin_adams"], settings=settings)
    try:
        with sitter.cursor() as cursor:  # BEGIN ... a search ... and no COMMIT
            cursor.execute("SELECT outcome FROM api.plate_history(%s, '7WXB124', %s, %s, false)",
                           (case.grant.access_id, end - timedelta(days=1800), end))
        started = datetime.now(UTC)
        with pytest.raises(workbench.InvalidQuery, match="changed nothing") as refused:
            admin.retention_run(dry_run=False)
        assert refused.value.reason == "busy" and datetime.now(UTC) - started < timedelta(seconds=20)
    finally:
        sitter.rollback()
        sitter.close()
    assert admin.retention_run(dry_run=False)["partitions_dropped"]  # once it is gone, the run goes through
    for person in (analyst, admin):
        person.close()
