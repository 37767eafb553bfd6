"""No analyst can stall the others, and no one rewrites the record unseen: an open transaction holds up
nobody, the limits are in force from outside the session, the chain is anchored by checkpoints kept outside
the database, pgAudit keeps a second record no rollback removes, failed logins are slowed, counted and lock
the login. Each attack is performed as a raw connection would."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from workbench import db, migrate
from workbench.policy import load_profile
from workbench.sample.generator import scenarios

from .conftest import END, TEST_DATABASE, audit_rows, last_audit_id

PLAN = scenarios(END)
LIMITS = load_profile("lapd").data["access"]["limits"]
WINDOW = (END - timedelta(days=30), END)


def _queue(connect_as):
    now = datetime.now(UTC)
    return connect_as("supervisor_sato").review_queue(now - timedelta(hours=6), now + timedelta(minutes=5))


def _raw(settings, login: str, password: str, **options):
    url = db.user_url(settings, login, password)
    return psycopg2.connect(host=url.host, port=url.port, user=login, password=password, dbname=url.database,
                            **options)


def test_one_open_transaction_stalls_no_other_login(settings, raw_as, connect_as, cases, analyst_case, superuser):
    """BEGIN; a denied open_access; then wait: every other login's audited call and the supervisor's chain check
    go on at once, and once the holder gives up nothing is lost or out of chain."""
    holder = raw_as("analyst_avery")
    with holder.cursor() as cursor:
        cursor.execute("SELECT outcome FROM api.open_access('999999999', 'criminal_investigation', "
                       "'Holding this transaction open to stall everyone else', '{}')")
        assert cursor.fetchone() == ("denied",)
    before = last_audit_id(superuser)
    investigator = connect_as("investigator_ito")
    case = investigator.open_case(cases[1], "criminal_investigation", "Stolen vehicle: its sightings this month")
    timings: list[float] = []

    def others() -> None:
        for _ in range(10):
            started = time.perf_counter()
            case.plate_history(PLAN.stolen_plates[0], *WINDOW)
            timings.append(time.perf_counter() - started)

    worker = threading.Thread(target=others)
    worker.start()
    worker.join(timeout=30)
    started = time.perf_counter()
    check = connect_as("supervisor_sato").verify_audit_chain()
    chain_seconds = time.perf_counter() - started
    holder.rollback()
    assert len(timings) == 10 and max(timings) < 2.0, timings
    assert chain_seconds < 5 and check.ok
    assert len([r for r in audit_rows(superuser, before) if r["function_name"] == "plate_history"]) == 10
    assert connect_as("supervisor_sato").verify_audit_chain().ok


def test_the_limits_are_in_force_and_enforced_from_outside_the_session(fresh_analyst, settings, superuser, policy_values):
    login, user = fresh_analyst()
    user.close()  # its pooled connection would count against the limit below
    with superuser.cursor() as cursor:
        cursor.execute("SELECT rolconfig, rolconnlimit FROM pg_roles WHERE rolname = %s", (login,))
        config, limit = cursor.fetchone()
    assert {"statement_timeout=60s", "lock_timeout=5s", "idle_in_transaction_session_timeout=60s"} <= set(config)
    assert limit == LIMITS["connections_per_login"]
    password = "limits-" + uuid.uuid4().hex[:12]
    with superuser.cursor() as cursor:
        cursor.execute(f"ALTER ROLE \"{login}\" PASSWORD %s", (password,))
    # The login loosens its own session and sits in a transaction: the watch ends it all the same.
    policy_values(access__limits__idle_in_transaction_timeout__data_user="1s")
    sitter = _raw(settings, login, password)
    with sitter.cursor() as cursor:
        cursor.execute("SET idle_in_transaction_session_timeout = 0")
        cursor.execute("BEGIN; SELECT * FROM api.whoami()")
    before = last_audit_id(superuser)
    time.sleep(1.5)
    # The scheduled watch may get there first; either way the session is ended and the ending audited.
    with superuser.cursor() as cursor:
        cursor.execute("SELECT alpr.enforce_session_limits()")
        remaining = None
        for _ in range(50):  # a terminated backend leaves pg_stat_activity a moment later
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (login,))
            remaining = cursor.fetchone()[0]
            if remaining == 0:
                break
            time.sleep(0.1)
        assert remaining == 0
    with pytest.raises(psycopg2.OperationalError), sitter.cursor() as cursor:
        cursor.execute("SELECT 1")
    ended = [r for r in audit_rows(superuser, before) if r["db_user"] == login]
    assert ended and ended[0]["reason"] == "idle_in_transaction" and "session_ended" in ended[0]["flags"]
    # Connections: the profile's number a login, one more refused by the server.
    opened = [_raw(settings, login, password) for _ in range(LIMITS["connections_per_login"])]
    with pytest.raises(psycopg2.OperationalError, match="too many connections for role"):
        _raw(settings, login, password)
    for connection in opened:
        connection.close()


def _scratch_chain(admin_url, name: str):
    """A database of its own with 30 audit records, a supervisor login able to check it (the postgres user)."""
    url = admin_url.set(database=name)
    migrate.fresh_database(url)
    from workbench.policy import load_profile

    migrate.store_profile(url, load_profile("lapd"))
    connection = migrate.connect_raw(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO alpr.users (login, full_name, role) VALUES ('postgres', 'Scratch Supervisor', 'supervisor')")
        for number in range(30):
            cursor.execute("SELECT alpr.write_audit('scratch', 'granted', NULL, NULL, %s)", (f"case {number}",))
        cursor.execute("SELECT alpr.chain_audit()")
    return url, connection


def _verify(cursor, checkpoint=None) -> tuple:
    cursor.execute("SELECT ok, detail, checkpoint_ok FROM api.verify_audit_chain(%s)",
                   (None if checkpoint is None else json.dumps(checkpoint),))
    return cursor.fetchone()


@pytest.fixture()
def owner_with_checkpoint(admin_url, request):
    """A scratch chain, a checkpoint of it taken, and the owner's cursor with the append-only triggers off."""
    url, connection = _scratch_chain(admin_url, f"alpr_workbench_test_{request.node.name[5:20]}")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT alpr.chain_checkpoint()")
            checkpoint = cursor.fetchone()[0]
            assert _verify(cursor, checkpoint)[0]
            cursor.execute("ALTER TABLE alpr.audit_log DISABLE TRIGGER USER; ALTER TABLE alpr.audit_chain DISABLE TRIGGER USER")
            yield cursor, checkpoint
    finally:
        connection.close()
        migrate.drop_database(url)


def test_truncation_and_rewind_pass_alone_and_fail_against_a_checkpoint(owner_with_checkpoint):
    cursor, checkpoint = owner_with_checkpoint
    # The owner's attack: drop the last ten records and links, rewind the head to the twentieth.
    cursor.execute("DELETE FROM alpr.audit_chain WHERE chain_seq > 20 RETURNING audit_id")
    gone = [row[0] for row in cursor.fetchall()]
    cursor.execute("DELETE FROM alpr.audit_log WHERE audit_id = ANY (%s)", (gone,))
    cursor.execute("UPDATE alpr.audit_chain_head SET last_seq = 20, "
                   "last_hash = (SELECT row_hash FROM alpr.audit_chain WHERE chain_seq = 20)")
    ok, detail, _ = _verify(cursor)
    assert ok, detail  # nothing inside the database remembers where the chain stood
    ok, detail, checkpoint_ok = _verify(cursor, checkpoint)
    assert not ok and checkpoint_ok is False and "no longer in the chain" in detail


def test_an_edit_rehashed_to_the_end_fails_against_a_checkpoint(owner_with_checkpoint):
    cursor, checkpoint = owner_with_checkpoint
    cursor.execute("UPDATE alpr.audit_log SET case_number = 'edited' WHERE audit_id = "
                   "(SELECT audit_id FROM alpr.audit_chain WHERE chain_seq = 10)")
    # ...and every link from there on recomputed, head included.
    cursor.execute("""
        DO $$
        DECLARE link record; previous bytea;
        BEGIN
            SELECT prev_hash INTO previous FROM alpr.audit_chain WHERE chain_seq = 10;
            FOR link IN SELECT c.chain_seq, a FROM alpr.audit_chain c JOIN alpr.audit_log a USING (audit_id)
                        WHERE c.chain_seq >= 10 ORDER BY c.chain_seq LOOP
                UPDATE alpr.audit_chain SET prev_hash = previous,
                       row_hash = sha256(previous || alpr.audit_canonical(link.a))
                WHERE chain_seq = link.chain_seq RETURNING row_hash INTO previous;
            END LOOP;
            UPDATE alpr.audit_chain_head SET last_hash = previous;
        END $$""")
    ok, detail, _ = _verify(cursor)
    assert ok, detail
    ok, detail, checkpoint_ok = _verify(cursor, checkpoint)
    assert not ok and checkpoint_ok is False and "changed and re-hashed" in detail


def test_the_watch_writes_checkpoints_outside_the_database(settings, admin_url, superuser, connect_as):
    with superuser.cursor() as cursor:
        cursor.execute("SELECT alpr.write_checkpoint_file()")
        written = cursor.fetchone()[0]
    folder = settings.home / "audit-checkpoints" / TEST_DATABASE
    files = sorted(folder.glob("*.json"))
    assert files and json.loads(files[-1].read_text())["row_hash"] == written["row_hash"]
    check = connect_as("supervisor_sato").verify_audit_chain(checkpoint="latest")
    assert check.ok and check.checkpoint_ok and check.head["chain_seq"] >= written["chain_seq"]
    cron = migrate.connect_raw(admin_url.set(database="postgres"))
    with cron, cron.cursor() as cursor:
        cursor.execute("SELECT schedule, command FROM cron.job WHERE database = %s", (TEST_DATABASE,))
        jobs = cursor.fetchall()
        assert ("* * * * *", "CALL alpr.watch(55)") in jobs
        assert [command for _, command in jobs].count("CALL alpr.watch(55)") == 1
    cron.close()


def test_a_rolled_back_call_is_in_the_second_record(raw_as, analyst_case, connect_as, superuser):
    """pgAudit logs the statement before it runs; the supervisor sees it beside no committed audit record."""
    marker = f"Q{uuid.uuid4().hex[:6].upper()}"
    analyst = raw_as("analyst_avery")
    with analyst.cursor() as cursor:
        cursor.execute("SELECT outcome FROM api.plate_history(%s, %s, %s, %s, false)",
                       (analyst_case.grant.access_id, marker, *WINDOW))
    analyst.rollback()
    with analyst.cursor() as cursor, pytest.raises(psycopg2.Error):
        cursor.execute("SELECT * FROM alpr.reads LIMIT 1")  # a direct attempt, refused by the server
    analyst.rollback()
    audited = f"R{uuid.uuid4().hex[:6].upper()}"
    analyst_case.plate_history(audited, *WINDOW)  # an ordinary, committed and audited call
    time.sleep(1.5)  # the logging collector writes the file; the watch's intake takes it in
    with superuser.cursor() as cursor:
        cursor.execute("SELECT alpr.ingest_server_log()")
    now = datetime.now(UTC)
    seen = connect_as("supervisor_sato").unaudited_statements(now - timedelta(minutes=5), now + timedelta(minutes=1))
    mine = seen[seen["db_user"] == "analyst_avery"]
    assert mine["statement"].str.contains(marker).any()
    assert mine["detail"].map(lambda d: "permission denied for schema alpr" in str(d)).any()
    assert not mine["statement"].str.contains(audited, regex=False).any()


def test_failed_logins_are_slowed_counted_and_lock_the_login(fresh_analyst, settings, superuser, connect_as):
    login, _ = fresh_analyst()
    password = "right-" + uuid.uuid4().hex[:12]
    with superuser.cursor() as cursor:
        cursor.execute(f"ALTER ROLE \"{login}\" PASSWORD %s", (password,))
    started = time.perf_counter()
    for attempt in range(6):
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            _raw(settings, login, f"guess-{attempt}")
    assert time.perf_counter() - started >= 6 * 0.9  # auth_delay: about a second each
    time.sleep(1.5)
    with superuser.cursor() as cursor:  # the watch takes the log in every few seconds; these passes make sure,
        for _ in range(2):              # and a second pass counts nothing twice
            cursor.execute("SELECT alpr.ingest_server_log()")
    rows = [r for r in audit_rows(superuser, 0) if r["db_user"] == login and r["function_name"] == "login"]
    counted = [r for r in rows if r["reason"] == "login_failed"]
    assert sum(r["parameters"]["failures"] for r in counted) == 6 and "login_failures" in counted[-1]["flags"]
    assert [r["reason"] for r in rows].count("account_locked") == 1
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        _raw(settings, login, password)  # even the right password, until an administrator reactivates
    queue = _queue(connect_as)
    flags = set().union(*queue.loc[queue["db_user"] == login, "flags"].map(set))
    assert {"login_failures", "account_locked"} <= flags
    connect_as("admin_adams").set_active(login, True, "Owner confirmed the attempts were theirs; password reset")
    _raw(settings, login, password).close()
