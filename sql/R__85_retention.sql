-- Retention run (administrators): logical deletion at the profile's period (hidden from data users at
-- once), hard deletion at the purge period, reads under an active legal hold kept. Whole monthly
-- partitions are dropped when all of them is past the purge period and none is held; otherwise rows
-- go. Images go with their reads. One transaction: an interrupted run changes nothing; a rerun is safe.
SET LOCAL ROLE alpr_owner;

-- The run itself, for an administrator's call (api.retention_run) and the schedule (alpr.scheduled_retention).
CREATE OR REPLACE FUNCTION alpr.retention_run_core(p_dry_run boolean, p_params jsonb)
RETURNS api.call_result
LANGUAGE plpgsql
SET lock_timeout = '5s'  -- a partition drop must not hold every reader behind it for longer
AS $$
DECLARE
    retention jsonb := alpr.policy() -> 'retention';
    as_of timestamptz := now();
    logical_cutoff timestamptz;
    purge_cutoff timestamptz;
    params jsonb := p_params;
    part record;
    held_in_part boolean;
    dropped text[] := '{}';
    dropped_rows bigint := 0;
    deleted_rows bigint := 0;
    hidden_rows bigint := 0;
    kept_held bigint;
    images_gone bigint := 0;
    counted bigint;
    report jsonb;
BEGIN
    -- One run at a time; a second waits rather than interleaving. The lock is a row only the owner can
    -- reach (an advisory lock's key could be taken by any login to stall the run).
    PERFORM 1 FROM alpr.job_locks WHERE job = 'retention_run' FOR UPDATE;
    logical_cutoff := as_of - (retention ->> 'logical_delete_after')::interval;
    purge_cutoff := as_of - (retention ->> 'purge_after')::interval;

    DROP TABLE IF EXISTS pg_temp.held, pg_temp.gone_images;
    CREATE TEMP TABLE held ON COMMIT DROP AS
        SELECT DISTINCT hr.read_id FROM alpr.legal_hold_reads hr
        JOIN alpr.legal_holds h ON h.hold_id = hr.hold_id WHERE h.released_at IS NULL AND h.status = 'approved';
    CREATE TEMP TABLE gone_images (image_id bigint) ON COMMIT DROP;  -- images of purged reads
    SELECT count(*) INTO kept_held FROM alpr.reads r JOIN held USING (read_id)
    WHERE r.read_at < coalesce(logical_cutoff, purge_cutoff);

    -- Hard deletion: whole months first.
    FOR part IN
        SELECT c.relname AS name,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'alpr.reads'::regclass ORDER BY 2
    LOOP
        CONTINUE WHEN part.upper_bound > purge_cutoff;
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM alpr.%I r JOIN held USING (read_id))', part.name) INTO held_in_part;
        CONTINUE WHEN held_in_part;
        EXECUTE format('SELECT count(*) FROM alpr.%I', part.name) INTO counted;
        IF NOT p_dry_run THEN
            EXECUTE format('DELETE FROM alpr.hits h USING alpr.%I r WHERE h.read_id = r.read_id', part.name);
            EXECUTE format('INSERT INTO gone_images SELECT plate_image_id FROM alpr.%I WHERE plate_image_id IS NOT NULL', part.name);
            EXECUTE format('DELETE FROM alpr.read_keys k USING alpr.%I r WHERE k.read_id = r.read_id', part.name);
            EXECUTE format('ALTER TABLE alpr.reads DETACH PARTITION alpr.%I', part.name);
            EXECUTE format('DROP TABLE alpr.%I', part.name);
        END IF;
        dropped := dropped || part.name::text;
        dropped_rows := dropped_rows + counted;
    END LOOP;

    -- Then single rows past the purge period in months that are kept (partly recent, or holding held reads).
    IF p_dry_run THEN
        SELECT count(*) INTO deleted_rows FROM alpr.reads r
        WHERE r.read_at < purge_cutoff AND NOT EXISTS (SELECT 1 FROM held WHERE held.read_id = r.read_id)
          AND NOT (tableoid::regclass::text = ANY (SELECT 'alpr.' || d FROM unnest(dropped) d));
    ELSE
        WITH gone AS (
            DELETE FROM alpr.reads r
            WHERE r.read_at < purge_cutoff AND NOT EXISTS (SELECT 1 FROM held WHERE held.read_id = r.read_id)
            RETURNING r.read_id, r.plate_image_id),
        unhit AS (DELETE FROM alpr.hits h USING gone WHERE h.read_id = gone.read_id RETURNING 1),
        unkeyed AS (DELETE FROM alpr.read_keys k USING gone WHERE k.read_id = gone.read_id RETURNING 1),
        images AS (INSERT INTO gone_images SELECT plate_image_id FROM gone WHERE plate_image_id IS NOT NULL RETURNING 1)
        SELECT count(*) INTO deleted_rows FROM gone;
    END IF;

    -- Logical deletion: hidden from every data-user function at once.
    IF logical_cutoff IS NOT NULL THEN
        IF p_dry_run THEN
            SELECT count(*) INTO hidden_rows FROM alpr.reads r
            WHERE r.read_at < logical_cutoff AND r.read_at >= purge_cutoff AND r.logically_deleted_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM held WHERE held.read_id = r.read_id);
        ELSE
            UPDATE alpr.reads r SET logically_deleted_at = as_of
            WHERE r.read_at < logical_cutoff AND r.logically_deleted_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM held WHERE held.read_id = r.read_id);
            GET DIAGNOSTICS hidden_rows = ROW_COUNT;
        END IF;
    END IF;

    IF NOT p_dry_run THEN
        DELETE FROM alpr.read_images i USING gone_images g
        WHERE i.image_id = g.image_id AND NOT EXISTS (SELECT 1 FROM alpr.reads r WHERE r.plate_image_id = i.image_id);
        GET DIAGNOSTICS images_gone = ROW_COUNT;
    END IF;

    report := jsonb_build_object(
        'dry_run', p_dry_run, 'as_of', as_of, 'profile', (SELECT key FROM alpr.policy_profile),
        'logical_cutoff', logical_cutoff, 'purge_cutoff', purge_cutoff,
        'logically_deleted', hidden_rows, 'partitions_dropped', to_jsonb(dropped), 'rows_in_dropped_partitions', dropped_rows,
        'rows_deleted', deleted_rows, 'images_deleted', images_gone, 'kept_under_legal_hold', kept_held);
    RETURN alpr.admin_deferred('retention_run', params, 'retention run done', report);
EXCEPTION WHEN lock_not_available THEN
    -- A partition drop waits for sessions still reading it; it gives up after lock_timeout rather than
    -- queue every other reader behind it. Nothing was changed; the run can be repeated.
    RETURN alpr.admin_result('retention_run', params, false,
        format('retention waited %s for a session still reading the read store and changed nothing; run it again '
               '(sessions idle in a transaction are ended after the profile''s limit)', current_setting('lock_timeout')),
        NULL, 'busy');
END
$$;

CREATE OR REPLACE FUNCTION api.retention_run(p_dry_run boolean DEFAULT true)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('dry_run', p_dry_run);
BEGIN
    gate := alpr.role_check(ARRAY['administrator'], 'retention_run', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    RETURN alpr.retention_run_core(coalesce(p_dry_run, true), params);
END
$$;

-- pg_cron's run (the profile's schedule.retention): audited as retention_run with scheduled = true.
CREATE OR REPLACE FUNCTION alpr.scheduled_retention() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    outcome api.call_result := alpr.retention_run_core(false, jsonb_build_object('dry_run', false, 'scheduled', true));
BEGIN
    RETURN coalesce(outcome.reason_code, 'done');
END
$$;

REVOKE ALL ON FUNCTION alpr.retention_run_core(boolean, jsonb), alpr.scheduled_retention() FROM PUBLIC;
REVOKE ALL ON FUNCTION api.retention_run(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.retention_run(boolean) TO workbench_administrator;
