-- The watch: what keeps one login from stalling the others and keeps the record whole, run by pg_cron as
-- the superuser every minute (workbench/schedule.py): the chainer, the session limits, the server-log intake
-- (pgAudit's statements, failed logins and the lockout), checkpoints of the chain's head written outside the
-- database. These functions are owned by the store owner but run with the caller's rights: nothing grants
-- them to anyone, and only a superuser's job has the rights they use (signalling backends, reading the log,
-- writing files).
SET LOCAL ROLE alpr_owner;

INSERT INTO alpr.job_locks VALUES ('log_intake') ON CONFLICT DO NOTHING;

-- A login's server-side limits from the profile (access.limits), by its workbench role. Called when a login
-- is created and for every login when the profile is stored.
CREATE OR REPLACE FUNCTION alpr.apply_login_limits(p_login text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    limits jsonb := alpr.policy() -> 'access' -> 'limits';
    who alpr.users;
BEGIN
    SELECT * INTO who FROM alpr.users WHERE login = p_login;
    IF who.user_id IS NULL OR limits IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_login AND NOT rolsuper) THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', p_login, coalesce(limits -> 'statement_timeout' ->> who.role, '0'));
    EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', p_login, coalesce(limits -> 'lock_timeout' ->> who.role, '0'));
    EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', p_login,
                   coalesce(limits -> 'idle_in_transaction_timeout' ->> who.role, '0'));
    EXECUTE format('ALTER ROLE %I CONNECTION LIMIT %s', p_login, coalesce((limits ->> 'connections_per_login')::int, -1));
END
$$;

CREATE OR REPLACE FUNCTION alpr.apply_all_login_limits() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    login text;
    applied integer := 0;
BEGIN
    FOR login IN SELECT u.login FROM alpr.users u JOIN pg_roles r ON r.rolname = u.login LOOP
        PERFORM alpr.apply_login_limits(login);
        applied := applied + 1;
    END LOOP;
    RETURN applied;
END
$$;

-- The limits a login could have loosened in its own session, enforced from outside it: sessions idle in a
-- transaction past the role's limit are ended, statements running past twice theirs cancelled, and data
-- users' connections beyond their share ended newest first. Each is audited for that login.
CREATE OR REPLACE FUNCTION alpr.enforce_session_limits() RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    limits jsonb := alpr.policy() -> 'access' -> 'limits';
    session record;
    ended integer := 0;
    cancelled integer := 0;
BEGIN
    IF limits IS NULL THEN RETURN '{}'; END IF;
    FOR session IN
        SELECT a.pid, a.usename::text AS login, a.state, u.role, now() - a.state_change AS idle_for,
               now() - a.query_start AS running_for,
               (limits -> 'idle_in_transaction_timeout' ->> u.role)::interval AS idle_limit,
               (limits -> 'statement_timeout' ->> u.role)::interval AS statement_limit
        FROM pg_stat_activity a JOIN alpr.users u ON u.login = a.usename
        WHERE a.datname = current_database() AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
    LOOP
        IF session.state LIKE 'idle in transaction%' AND session.idle_limit > interval '0'
           AND session.idle_for > session.idle_limit THEN
            PERFORM pg_terminate_backend(session.pid);
            PERFORM alpr.write_audit('session_limit', 'denied', 'idle_in_transaction', NULL, NULL, NULL, NULL,
                jsonb_build_object('pid', session.pid, 'idle_seconds', round(extract(epoch FROM session.idle_for))),
                '{}', 0, ARRAY['session_ended'], '{}', session.login);
            ended := ended + 1;
        ELSIF session.state = 'active' AND session.statement_limit > interval '0'
              AND session.running_for > 2 * session.statement_limit THEN
            PERFORM pg_cancel_backend(session.pid);
            PERFORM alpr.write_audit('session_limit', 'denied', 'statement_too_long', NULL, NULL, NULL, NULL,
                jsonb_build_object('pid', session.pid, 'running_seconds', round(extract(epoch FROM session.running_for))),
                '{}', 0, ARRAY['session_ended'], '{}', session.login);
            cancelled := cancelled + 1;
        END IF;
    END LOOP;
    -- Data users' share of the connections: the newest past it are ended.
    FOR session IN
        SELECT a.pid, a.usename::text AS login FROM pg_stat_activity a JOIN alpr.users u ON u.login = a.usename
        WHERE a.datname = current_database() AND a.backend_type = 'client backend' AND u.role = 'data_user'
        ORDER BY a.backend_start DESC
        OFFSET (limits ->> 'data_user_connections')::int
    LOOP
        PERFORM pg_terminate_backend(session.pid);
        PERFORM alpr.write_audit('session_limit', 'denied', 'too_many_connections', NULL, NULL, NULL, NULL,
            jsonb_build_object('pid', session.pid, 'share', limits ->> 'data_user_connections'),
            '{}', 0, ARRAY['session_ended'], '{}', session.login);
        ended := ended + 1;
    END LOOP;
    RETURN jsonb_build_object('ended', ended, 'cancelled', cancelled);
END
$$;

CREATE OR REPLACE FUNCTION alpr.json_or_null(p text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN p::jsonb;
EXCEPTION WHEN invalid_text_representation THEN
    RETURN NULL;  -- a line cut by a crash: skipped, the rest of the file still read
END
$$;

-- The statement of a pgAudit line: its eighth CSV field ("AUDIT: SESSION,id,sub,class,command,type,name,statement,...",
-- quoted when it holds a comma or a quote).
CREATE OR REPLACE FUNCTION alpr.audit_statement(p_message text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN rest LIKE '"%' THEN replace((regexp_match(rest, '^"((?:[^"]|"")*)"'))[1], '""', '"')
                ELSE split_part(rest, ',', 1) END
    FROM (SELECT regexp_replace(p_message, '^AUDIT: (?:[^,]*,){7}', '') AS rest) r
$$;

-- pgAudit's class of a statement from its first word (the server's statement log gives the text only).
CREATE OR REPLACE FUNCTION alpr.statement_class(p_statement text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE upper((regexp_match(p_statement, '^\s*(\w+)'))[1])
        WHEN 'SELECT' THEN 'READ' WHEN 'WITH' THEN 'READ' WHEN 'TABLE' THEN 'READ' WHEN 'VALUES' THEN 'READ'
        WHEN 'INSERT' THEN 'WRITE' WHEN 'UPDATE' THEN 'WRITE' WHEN 'DELETE' THEN 'WRITE' WHEN 'MERGE' THEN 'WRITE'
        WHEN 'TRUNCATE' THEN 'WRITE' WHEN 'COPY' THEN 'WRITE'
        WHEN 'CALL' THEN 'FUNCTION' WHEN 'DO' THEN 'FUNCTION'
        WHEN 'GRANT' THEN 'ROLE' WHEN 'REVOKE' THEN 'ROLE'
        WHEN 'CREATE' THEN 'DDL' WHEN 'ALTER' THEN 'DDL' WHEN 'DROP' THEN 'DDL' WHEN 'COMMENT' THEN 'DDL'
        ELSE 'MISC' END
$$;

-- Takes in what the server log (JSON lines) says about this database since the last pass: pgAudit's
-- record of each statement, failed logins and errors of workbench logins. Failed logins are audited per
-- login and pass (flagged), and a login with the profile's number of failures in its window is deactivated
-- and refused at login until an administrator reactivates it. Log files past the profile's access-record
-- retention are removed once read.
CREATE OR REPLACE FUNCTION alpr.ingest_server_log(p_max_bytes bigint DEFAULT 16000000) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    policy jsonb := alpr.policy();
    limits jsonb := policy -> 'access' -> 'limits';
    log_file record;
    known alpr.server_log_files;
    size bigint;
    raw bytea;
    cut integer;
    chunk text;
    statements integer := 0;
    failures integer := 0;
    locked integer := 0;
    failed record;
BEGIN
    -- One intake at a time (the watch's and a direct call): each line is taken in once, each failure counted once.
    PERFORM 1 FROM alpr.job_locks WHERE job = 'log_intake' FOR UPDATE;
    FOR log_file IN SELECT name, modification FROM pg_ls_logdir() WHERE name LIKE '%.json' ORDER BY name LOOP
        SELECT * INTO known FROM alpr.server_log_files WHERE file_name = log_file.name;
        size := (pg_stat_file('log/' || log_file.name)).size;
        IF known.file_name IS NULL THEN
            INSERT INTO alpr.server_log_files (file_name) VALUES (log_file.name) RETURNING * INTO known;
        END IF;
        CONTINUE WHEN size <= known.read_to;
        raw := pg_read_binary_file('log/' || log_file.name, known.read_to, least(size - known.read_to, p_max_bytes));
        cut := length(raw);
        WHILE cut > 0 AND get_byte(raw, cut - 1) <> 10 LOOP  -- up to the last whole line (bytes, not characters)
            cut := cut - 1;
        END LOOP;
        CONTINUE WHEN cut = 0;
        chunk := convert_from(substring(raw FROM 1 FOR cut), 'UTF8');
        WITH lines AS (
            SELECT alpr.json_or_null(line) AS entry FROM regexp_split_to_table(chunk, E'\n') line
            WHERE line LIKE '{%}'),
        mine AS (
            SELECT entry FROM lines
            WHERE entry ->> 'dbname' = current_database()
              AND (entry ->> 'timestamp')::timestamptz >= (SELECT log_from FROM alpr.deployment)
              -- the statement a login sent (the server's statement log), and pgAudit's role and schema records
              AND (entry ->> 'message' LIKE 'statement: %'
                   OR (entry ->> 'message' LIKE 'AUDIT: SESSION,%' AND split_part(entry ->> 'message', ',', 3) = '1')
                   OR entry ->> 'message' LIKE 'password authentication failed for user%'
                   OR (entry ->> 'error_severity' IN ('ERROR', 'FATAL')
                       AND EXISTS (SELECT 1 FROM alpr.users u WHERE u.login = entry ->> 'user')))),
        kept AS (
            INSERT INTO alpr.server_log_events (logged_at, db_user, session_id, kind, class, command, statement, detail)
            SELECT (entry ->> 'timestamp')::timestamptz, entry ->> 'user', entry ->> 'session_id',
                   CASE WHEN entry ->> 'message' LIKE 'AUDIT: %' OR entry ->> 'message' LIKE 'statement: %' THEN 'statement'
                        WHEN entry ->> 'message' LIKE 'password authentication failed%' THEN 'login_failed'
                        ELSE 'error' END,
                   CASE WHEN entry ->> 'message' LIKE 'AUDIT: %' THEN split_part(entry ->> 'message', ',', 4)
                        WHEN entry ->> 'message' LIKE 'statement: %' THEN alpr.statement_class(substr(entry ->> 'message', 12)) END,
                   CASE WHEN entry ->> 'message' LIKE 'AUDIT: %' THEN split_part(entry ->> 'message', ',', 5)
                        WHEN entry ->> 'message' LIKE 'statement: %'
                        THEN upper((regexp_match(substr(entry ->> 'message', 12), '^\s*(\w+)'))[1]) END,
                   alpr.clip(CASE WHEN entry ->> 'message' LIKE 'AUDIT: %' THEN alpr.audit_statement(entry ->> 'message')
                                  WHEN entry ->> 'message' LIKE 'statement: %' THEN substr(entry ->> 'message', 12)
                                  ELSE coalesce(entry ->> 'statement', entry ->> 'message') END, 4000),
                   jsonb_strip_nulls(jsonb_build_object('severity', entry ->> 'error_severity', 'remote', entry ->> 'remote_host',
                                                        'application', entry ->> 'application_name',
                                                        'message', CASE WHEN entry ->> 'message' NOT LIKE 'AUDIT: %'
                                                                        THEN alpr.clip(entry ->> 'message', 500) END))
            FROM mine
            RETURNING kind)
        SELECT statements + count(*) FILTER (WHERE kind <> 'login_failed'), failures + count(*) FILTER (WHERE kind = 'login_failed')
          INTO statements, failures FROM kept;
        UPDATE alpr.server_log_files SET read_to = known.read_to + cut, seen_at = now()
        WHERE file_name = log_file.name;
    END LOOP;
    -- Failed logins: audited per login (this pass), and the lockout.
    FOR failed IN
        SELECT e.db_user AS login, count(*) FILTER (WHERE e.event_id > coalesce(
                   (SELECT (a.parameters ->> 'last_event')::bigint FROM alpr.audit_log a
                    WHERE a.function_name = 'login' AND a.db_user = e.db_user AND a.parameters ? 'last_event'
                    ORDER BY a.audit_id DESC LIMIT 1), 0)) AS new,
               count(*) AS in_window, max(e.event_id) AS last_event, min(e.logged_at) AS first_at, max(e.logged_at) AS last_at
        FROM alpr.server_log_events e
        WHERE e.kind = 'login_failed'
          AND e.logged_at > now() - make_interval(mins => coalesce((limits ->> 'lockout_window_minutes')::int, 15))
        GROUP BY e.db_user
    LOOP
        CONTINUE WHEN failed.new = 0;
        PERFORM alpr.write_audit('login', 'denied', 'login_failed', NULL, NULL, NULL, NULL,
            jsonb_build_object('failures', failed.new, 'in_window', failed.in_window, 'last_event', failed.last_event,
                               'first_at', failed.first_at, 'last_at', failed.last_at),
            '{}', 0, CASE WHEN failed.in_window >= 3 THEN ARRAY['login_failures'] ELSE '{}' END, '{}', failed.login);
        IF failed.in_window >= coalesce((limits ->> 'lockout_after_failures')::int, 5)
           AND EXISTS (SELECT 1 FROM alpr.users WHERE login = failed.login AND active) THEN
            UPDATE alpr.users SET active = false, deactivated_at = now(),
                deactivation_reason = format('locked after %s failed logins in %s minutes', failed.in_window,
                                             coalesce((limits ->> 'lockout_window_minutes')::int, 15))
            WHERE login = failed.login;
            UPDATE alpr.access_sessions SET expires_at = now() WHERE db_user = failed.login AND expires_at > now();
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = failed.login AND NOT rolsuper) THEN
                EXECUTE format('ALTER ROLE %I NOLOGIN', failed.login);
            END IF;
            PERFORM alpr.write_audit('login', 'denied', 'account_locked', NULL, NULL, NULL, NULL,
                jsonb_build_object('failures', failed.in_window), '{}', 0, ARRAY['account_locked'], '{}', failed.login);
            locked := locked + 1;
        END IF;
    END LOOP;
    -- Log files past the access-record retention, once read (adminpack's unlink, when installed).
    IF to_regprocedure('pg_file_unlink(text)') IS NOT NULL THEN
        PERFORM pg_file_unlink('log/' || f.name) FROM pg_ls_logdir() f
        JOIN alpr.server_log_files k ON k.file_name = f.name
        WHERE f.modification < now() - make_interval(years => coalesce((policy -> 'audit' ->> 'retain_years')::int, 5))
          AND k.read_to >= f.size;
    END IF;
    RETURN jsonb_build_object('statements', statements, 'login_failures', failures, 'locked', locked);
END
$$;

-- Writes the chain's head to a file of its own in the deployment's checkpoint folder (under WORKBENCH_HOME,
-- outside the database: the store owner cannot rewrite it). Returns the checkpoint, or NULL with no folder.
CREATE OR REPLACE FUNCTION alpr.write_checkpoint_file() RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    folder text := (SELECT checkpoint_dir FROM alpr.deployment);
    checkpoint jsonb;
BEGIN
    IF folder IS NULL THEN RETURN NULL; END IF;
    PERFORM alpr.chain_audit();
    checkpoint := alpr.chain_checkpoint();
    IF checkpoint IS NULL THEN RETURN NULL; END IF;
    EXECUTE format('COPY (SELECT %L) TO %L', checkpoint::text,
                   format('%s/%s-%s.json', folder, current_database(), to_char(clock_timestamp(), 'YYYYMMDD"T"HH24MISSUS')));
    UPDATE alpr.deployment SET last_checkpoint_at = now();
    RETURN checkpoint;
END
$$;

-- One minute of the watch (pg_cron starts it every minute): every few seconds link the audit rows, enforce
-- the session limits and take in the server log; a checkpoint when the profile's interval has passed. Each
-- pass commits on its own, so a failing pass loses nothing of the others.
CREATE OR REPLACE PROCEDURE alpr.watch(p_seconds integer DEFAULT 55)
LANGUAGE plpgsql AS $$
DECLARE
    schedule jsonb := alpr.policy() -> 'schedule';
    every integer := coalesce((schedule ->> 'watch_every_seconds')::int, 5);
    until timestamptz := clock_timestamp() + make_interval(secs => p_seconds);
BEGIN
    -- one watch at a time (a slow pass must not overlap the next minute's)
    IF NOT EXISTS (SELECT 1 FROM alpr.job_locks WHERE job = 'watch' FOR UPDATE SKIP LOCKED) THEN
        RETURN;
    END IF;
    IF coalesce((SELECT last_checkpoint_at FROM alpr.deployment), '-infinity')
       < now() - make_interval(mins => coalesce((schedule ->> 'checkpoint_every_minutes')::int, 10)) THEN
        PERFORM alpr.write_checkpoint_file();
    END IF;
    LOOP
        -- Each task on its own: one that fails (its error in the server log) does not stop the others.
        BEGIN
            PERFORM alpr.chain_audit();
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'workbench watch: chaining failed: %', SQLERRM;
        END;
        BEGIN
            PERFORM alpr.enforce_session_limits();
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'workbench watch: session limits failed: %', SQLERRM;
        END;
        BEGIN
            PERFORM alpr.ingest_server_log();
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'workbench watch: log intake failed: %', SQLERRM;
        END;
        EXIT WHEN clock_timestamp() + make_interval(secs => every) > until;
        COMMIT;
        PERFORM 1 FROM alpr.job_locks WHERE job = 'watch' FOR UPDATE;  -- held again for the next pass
        PERFORM pg_sleep(every);
    END LOOP;
END
$$;

-- The supervisor's view of the second record: statements workbench logins ran (pgAudit, committed or not)
-- that have no committed audit record of the same login within seconds (a call rolled back, a refused
-- attempt on a table or function), and failed logins. Audited; rows come after that record commits.
CREATE OR REPLACE FUNCTION api.unaudited_statements(p_from timestamptz, p_to timestamptz)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
SET jit = off
AS $$
DECLARE
    params jsonb := jsonb_build_object('from', p_from, 'to', p_to);
    refusal api.call_result;
    payload jsonb;
    row_total integer;
BEGIN
    refusal := alpr.review_refusal('unaudited_statements', p_from, p_to, params);
    IF refusal.outcome IS NOT NULL THEN RETURN refusal; END IF;
    -- What the watch has taken in (every few seconds; the intake needs the superuser's right to read the log).
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'logged_at', e.logged_at, 'db_user', e.db_user, 'kind', e.kind, 'class', e.class, 'command', e.command,
               'statement', e.statement, 'detail', e.detail) ORDER BY e.logged_at), '[]'), count(*)
      INTO payload, row_total
    FROM alpr.server_log_events e
    WHERE e.logged_at >= p_from AND e.logged_at < p_to
      AND (e.kind <> 'statement'
           OR (EXISTS (SELECT 1 FROM alpr.users u WHERE u.login = e.db_user)
               AND e.statement ~* '(api|alpr)\.'
               AND e.statement !~* 'api\.(fetch_result|whoami|policy_summary|sample_info|cameras|sensitive_places)\('
               -- the audit row a statement writes lies between it and that session's next statement
               AND NOT EXISTS (SELECT 1 FROM alpr.audit_log a
                               WHERE a.db_user = e.db_user AND a.client ->> 'session' = e.session_id
                                 AND a.logged_at >= e.logged_at - interval '5 milliseconds'
                                 AND a.logged_at < coalesce(
                                     (SELECT min(n.logged_at) FROM alpr.server_log_events n
                                      WHERE n.session_id = e.session_id AND n.kind = 'statement' AND n.event_id > e.event_id),
                                     e.logged_at + interval '10 minutes'))));
    RETURN alpr.deliver(NULL, 'unaudited_statements', 'unaudited', payload, row_total, params, '{}');
END
$$;

REVOKE ALL ON FUNCTION alpr.json_or_null(text), alpr.audit_statement(text), alpr.statement_class(text), alpr.apply_login_limits(text), alpr.apply_all_login_limits(), alpr.enforce_session_limits(),
    alpr.ingest_server_log(bigint), alpr.write_checkpoint_file() FROM PUBLIC;
REVOKE ALL ON PROCEDURE alpr.watch(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION api.unaudited_statements(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.unaudited_statements(timestamptz, timestamptz) TO workbench_supervisor, workbench_administrator;
