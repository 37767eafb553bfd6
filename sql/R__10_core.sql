-- Internal helpers (schema alpr: nobody but the owner may call them).
SET LOCAL ROLE alpr_owner;

-- Look-alike skeleton: every character replaced by its class representative (workbench/plates.py mirrors it).
CREATE OR REPLACE FUNCTION alpr.plate_skeleton(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(p, 'ODQILT7JZASGBNHWV', '0001111124568MMMU')
$$;

CREATE OR REPLACE FUNCTION alpr.normalize_plate(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT upper(regexp_replace(coalesce(p, ''), '[\s\-\.·]', '', 'g'))
$$;

CREATE OR REPLACE FUNCTION alpr.policy() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT profile FROM alpr.policy_profile WHERE singleton
$$;

-- Hostile or huge text is kept as data, clipped, with its length and digest so nothing is silently lost.
CREATE OR REPLACE FUNCTION alpr.clip(p text, max_chars integer DEFAULT 500) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p IS NULL OR length(p) <= max_chars THEN p
                ELSE left(p, max_chars) || format('...[clipped: %s chars, sha256 %s]', length(p),
                                                  encode(sha256(convert_to(p, 'UTF8')), 'hex')) END
$$;

CREATE OR REPLACE FUNCTION alpr.audit_canonical(a alpr.audit_log) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(jsonb_build_array(
        a.audit_id, extract(epoch FROM a.logged_at)::text, a.db_user, a.username, a.user_role,
        a.access_id, a.case_number, a.purpose, a.justification, a.function_name, a.parameters,
        a.scope, a.rows_returned, a.outcome, a.reason, a.flags, a.client)::text, 'UTF8')
$$;

-- The one writer of audit rows: an id from a sequence and the row, nothing else. No lock is taken, so a
-- caller who holds a transaction open holds up no one; the chainer (alpr.chain_audit) links the row once
-- its transaction has committed.
-- p_db_user names the login a server-side job (the watch) records an event for; callers never set it.
DROP FUNCTION IF EXISTS alpr.write_audit(text, text, text, uuid, text, text, text, jsonb, jsonb, integer, text[], jsonb);
CREATE OR REPLACE FUNCTION alpr.write_audit(
    p_function text, p_outcome text, p_reason text DEFAULT NULL, p_access_id uuid DEFAULT NULL,
    p_case_number text DEFAULT NULL, p_purpose text DEFAULT NULL, p_justification text DEFAULT NULL,
    p_parameters jsonb DEFAULT '{}', p_scope jsonb DEFAULT '{}', p_rows integer DEFAULT 0,
    p_flags text[] DEFAULT '{}', p_client jsonb DEFAULT '{}', p_db_user text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    entry alpr.audit_log;
    who alpr.users;
BEGIN
    entry.db_user := coalesce(p_db_user, session_user);
    SELECT * INTO who FROM alpr.users WHERE login = entry.db_user;
    entry.audit_id := nextval('alpr.audit_id_seq');
    entry.logged_at := clock_timestamp();
    entry.username := who.full_name;
    entry.user_role := who.role;
    entry.access_id := p_access_id;
    entry.case_number := alpr.clip(p_case_number, 100);
    entry.purpose := alpr.clip(p_purpose, 100);
    entry.justification := alpr.clip(p_justification, 2000);
    entry.function_name := p_function;
    entry.parameters := coalesce(p_parameters, '{}');
    entry.scope := coalesce(p_scope, '{}');
    entry.rows_returned := coalesce(p_rows, 0);
    entry.outcome := p_outcome;
    entry.reason := p_reason;
    entry.flags := coalesce(p_flags, '{}');
    -- The server session (as the server log names it: start time and pid in hex), so each statement of the
    -- second record can be matched to the audit row it wrote, or shown to have written none.
    entry.client := coalesce(p_client, '{}') || jsonb_build_object('session',
        (SELECT to_hex(floor(extract(epoch FROM a.backend_start))::bigint) || '.' || to_hex(a.pid)
         FROM pg_stat_get_activity(pg_backend_pid()) a));
    INSERT INTO alpr.audit_log SELECT entry.*;
    -- The server log is not transactional: a denial whose transaction a hand-written caller rolls
    -- back still leaves this line (LOG reaches the server log, not the client), beside pgAudit's record.
    IF p_outcome <> 'granted' THEN
        RAISE LOG 'workbench audit: % % by % (case %, purpose %): %', p_outcome, p_function, entry.db_user,
            alpr.clip(p_case_number, 100), alpr.clip(p_purpose, 100), coalesce(p_reason, '');
    END IF;
    RETURN entry.audit_id;
END
$$;

-- Links the committed audit rows not yet in the chain, in audit-id order, each to the one before it
-- (row_hash = sha256(prev_hash || canonical row)). One chainer at a time and never a wait: a second one
-- skips the locked head. Rows still to come belong to transactions running now; none of them began before
-- the oldest running transaction, so the next pass looks back only that far (scan_from).
CREATE OR REPLACE FUNCTION alpr.chain_audit(p_limit integer DEFAULT 200000) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    head alpr.audit_chain_head;
    oldest_running timestamptz;
    entry alpr.audit_log;
    link bytea;
    chained integer := 0;
BEGIN
    SELECT * INTO head FROM alpr.audit_chain_head WHERE singleton FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    -- Taken before the rows are read: a transaction that commits in between began after this instant.
    SELECT least(min(xact_start), now()) INTO oldest_running FROM pg_stat_activity WHERE xact_start IS NOT NULL;
    IF NOT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') THEN
        -- other logins' transaction starts are hidden from this role: look back a day (workbench doctor warns)
        oldest_running := least(oldest_running, now() - interval '1 day');
    END IF;
    IF EXISTS (SELECT 1 FROM pg_prepared_xacts) THEN
        oldest_running := head.scan_from;  -- a prepared transaction's start is unknown: look back as before
    END IF;
    FOR entry IN
        SELECT a.* FROM alpr.audit_log a
        WHERE a.logged_at >= head.scan_from
          AND NOT EXISTS (SELECT 1 FROM alpr.audit_chain c WHERE c.audit_id = a.audit_id)
        ORDER BY a.audit_id LIMIT p_limit
    LOOP
        link := sha256(head.last_hash || alpr.audit_canonical(entry));
        head.last_seq := head.last_seq + 1;
        INSERT INTO alpr.audit_chain (chain_seq, audit_id, prev_hash, row_hash)
        VALUES (head.last_seq, entry.audit_id, head.last_hash, link);
        head.last_hash := link;
        chained := chained + 1;
    END LOOP;
    UPDATE alpr.audit_chain_head
    SET last_seq = head.last_seq, last_hash = head.last_hash,
        -- a minute's margin for clocks; unchanged when the pass stopped at its limit
        scan_from = CASE WHEN chained < p_limit THEN greatest(head.scan_from, oldest_running - interval '1 minute')
                         ELSE head.scan_from END
    WHERE singleton;
    RETURN chained;
END
$$;

-- The chain's head as published outside the database (checkpoints, reports): its last link, that link's
-- audit record and hash, and how many links the chain has.
CREATE OR REPLACE FUNCTION alpr.chain_checkpoint() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('chain_seq', c.chain_seq, 'audit_id', c.audit_id, 'row_hash', encode(c.row_hash, 'hex'),
                              'links', c.chain_seq, 'database', current_database(), 'taken_at', now())
    FROM alpr.audit_chain c ORDER BY c.chain_seq DESC LIMIT 1
$$;

CREATE OR REPLACE FUNCTION alpr.ensure_partition(p_month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    first_day date := date_trunc('month', p_month)::date;
    name text := format('reads_y%sm%s', to_char(first_day, 'YYYY'), to_char(first_day, 'MM'));
BEGIN
    IF to_regclass('alpr.' || name) IS NULL THEN
        EXECUTE format('CREATE TABLE alpr.%I PARTITION OF alpr.reads FOR VALUES FROM (%L) TO (%L)',
                       name, first_day::timestamp AT TIME ZONE 'UTC',
                       (first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION alpr.ensure_partitions(p_from timestamptz, p_to timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    month date := date_trunc('month', p_from AT TIME ZONE 'UTC')::date;
    made integer := 0;
BEGIN
    WHILE month <= (p_to AT TIME ZONE 'UTC')::date LOOP
        PERFORM alpr.ensure_partition(month);
        made := made + 1;
        month := month + interval '1 month';
    END LOOP;
    RETURN made;
END
$$;

-- Brings the distinct-plate table up to date after a bulk load.
CREATE OR REPLACE FUNCTION alpr.refresh_plates(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    changed bigint;
BEGIN
    INSERT INTO alpr.plates (plate, skeleton, plate_length, first_seen, last_seen)
    SELECT plate, alpr.plate_skeleton(plate), length(plate), min(read_at), max(read_at)
    FROM alpr.reads WHERE read_at >= p_from AND read_at < p_to
    GROUP BY plate
    ON CONFLICT (plate) DO UPDATE
        SET first_seen = least(alpr.plates.first_seen, excluded.first_seen),
            last_seen = greatest(alpr.plates.last_seen, excluded.last_seen);
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;

-- Partition functions are SECURITY DEFINER so every partition belongs to alpr_owner, whoever loads.
-- Bulk load (administrator/loader only): an empty month is loaded into a standalone table with no
-- indexes, then indexed and attached, which is several times faster than COPY through the indexes.
-- Returns the table to COPY into, or NULL when the month already holds reads (load through alpr.reads).
CREATE OR REPLACE FUNCTION alpr.bulk_stage_month(p_month date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    first_day date := date_trunc('month', p_month)::date;
    name text := format('reads_y%sm%s', to_char(first_day, 'YYYY'), to_char(first_day, 'MM'));
    lower_bound timestamptz := first_day::timestamp AT TIME ZONE 'UTC';
    upper_bound timestamptz := (first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC';
    attached boolean;
    has_rows boolean;
BEGIN
    IF to_regclass('alpr.' || name) IS NOT NULL THEN
        SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = ('alpr.' || name)::regclass) INTO attached;
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM alpr.%I)', name) INTO has_rows;
        IF attached AND has_rows THEN
            RETURN NULL;
        END IF;
        -- An empty partition, or a staged table left by an interrupted load: start it again.
        IF attached THEN
            EXECUTE format('ALTER TABLE alpr.reads DETACH PARTITION alpr.%I', name);
        END IF;
        EXECUTE format('DROP TABLE alpr.%I', name);
    END IF;
    EXECUTE format('CREATE TABLE alpr.%I (LIKE alpr.reads INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    -- The bound as a CHECK lets ATTACH skip its validation scan.
    EXECUTE format('ALTER TABLE alpr.%I ADD CONSTRAINT %I CHECK (read_at >= %L AND read_at < %L)',
                   name, name || '_bound', lower_bound, upper_bound);
    RETURN name;
END
$$;

CREATE OR REPLACE FUNCTION alpr.bulk_attach_month(p_month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    first_day date := date_trunc('month', p_month)::date;
    name text := format('reads_y%sm%s', to_char(first_day, 'YYYY'), to_char(first_day, 'MM'));
BEGIN
    -- Same definitions as the parent's indexes, so ATTACH adopts them instead of building new ones.
    EXECUTE format('ALTER TABLE alpr.%I ADD PRIMARY KEY (read_id, read_at)', name);
    EXECUTE format('CREATE INDEX ON alpr.%I (plate, read_at)', name);
    EXECUTE format('CREATE INDEX ON alpr.%I (plate_skeleton, read_at)', name);
    EXECUTE format('CREATE INDEX ON alpr.%I (camera_id, read_at)', name);
    EXECUTE format('CREATE INDEX ON alpr.%I USING gist (location, read_at)', name);
    EXECUTE format('ALTER TABLE alpr.reads ATTACH PARTITION alpr.%I FOR VALUES FROM (%L) TO (%L)', name,
                   first_day::timestamp AT TIME ZONE 'UTC', (first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    EXECUTE format('ALTER TABLE alpr.%I DROP CONSTRAINT %I', name, name || '_bound');
END
$$;
