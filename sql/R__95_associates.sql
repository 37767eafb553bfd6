-- Associate (convoy) analysis: the plates read close to a vehicle of interest in time at the same or
-- adjacent cameras, again and again, ranked by how unlikely chance makes what was seen. Pattern-of-life
-- work: only for the profile's [associates] purposes, a supervisor's approval above its window, the plate
-- and every associate returned in the audit row, flagged for the review queue.
SET LOCAL ROLE alpr_owner;

-- P(X >= k) for X ~ Poisson(mean): how often chance alone would give k or more co-occurrences.
CREATE OR REPLACE FUNCTION alpr.poisson_tail(p_k integer, p_mean double precision) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    term double precision;
    below double precision := 0;
BEGIN
    IF p_k <= 0 THEN RETURN 1.0; END IF;
    IF p_mean <= 0 THEN RETURN 0.0; END IF;
    term := exp(-p_mean);  -- P(X = 0); each next term times mean / i
    FOR i IN 0 .. p_k - 1 LOOP
        IF i > 0 THEN term := term * p_mean / i; END IF;
        below := below + term;
    END LOOP;
    RETURN greatest(0.0, 1.0 - below);
END
$$;

DROP FUNCTION IF EXISTS alpr.associates_of(text, timestamptz, timestamptz, interval, double precision, integer,
                                            integer, integer);

-- The ranking itself (no gate): used by api.associates, and by tests against their Python oracle.
-- For each associate plate P: k = the target's reads with a read of P within p_within at a camera within
-- p_adjacent_m (opposite directions of travel excluded where both headings are known); the chance
-- expectation E = sum over the target's reads t of P's reads at t's neighbouring cameras in t's hour of day
-- (over the window's days) times 2*p_within / (days * 1 hour): what P's own traffic there at that hour would
-- give by coincidence. Ranked by P(X >= k | E), then k.
CREATE OR REPLACE FUNCTION alpr.associates_of(p_plate text, p_from timestamptz, p_to timestamptz,
                                              p_within interval, p_adjacent_m double precision, p_min_places integer,
                                              p_max_target_reads integer, p_limit integer)
RETURNS TABLE (plate text, co_occurrences integer, cameras integer, days integer, expected double precision,
               chance double precision, pairs jsonb)
LANGUAGE sql STABLE AS $$
    WITH target AS (
        SELECT r.read_id, r.read_at, r.camera_id, r.location, r.heading_deg
        FROM alpr.reads r
        WHERE r.plate = p_plate AND r.read_at >= p_from AND r.read_at < p_to AND r.logically_deleted_at IS NULL
        ORDER BY r.read_at LIMIT p_max_target_reads
    ), window_days AS (
        SELECT greatest(1.0, extract(epoch FROM p_to - p_from) / 86400.0) AS days
    ), near_cameras AS (  -- each target read's neighbourhood: its camera and those within p_adjacent_m
        SELECT t.read_id AS target_read, c.camera_id
        FROM target t JOIN alpr.cameras c ON ST_DWithin(c.location, t.location, p_adjacent_m)
        UNION
        SELECT t.read_id, t.camera_id FROM target t
    ), together AS (
        -- Per target read and neighbouring camera, an index probe of that camera's reads in the interval:
        -- LATERAL keeps it a probe (the interval's bounds prune the monthly partitions at run time), where a
        -- join over the whole window scanned a month of reads.
        SELECT t.read_id AS target_read, t.read_at AS target_at, t.camera_id AS target_camera,
               ST_Y(t.location::geometry) AS target_lat, ST_X(t.location::geometry) AS target_lon, x.read_id, x.plate,
               x.read_at, x.camera_id, ST_Y(x.location::geometry) AS lat, ST_X(x.location::geometry) AS lon
        FROM target t
        JOIN near_cameras n ON n.target_read = t.read_id
        CROSS JOIN LATERAL (
            SELECT r.read_id, r.plate, r.read_at, r.camera_id, r.location, r.heading_deg FROM alpr.reads r
            WHERE r.camera_id = n.camera_id AND r.read_at >= t.read_at - p_within AND r.read_at <= t.read_at + p_within
              AND r.plate <> p_plate AND r.logically_deleted_at IS NULL
            OFFSET 0) x
        WHERE t.heading_deg IS NULL OR x.heading_deg IS NULL
              OR abs(((x.heading_deg - t.heading_deg)::numeric + 540) % 360 - 180) <= 90
    ), grouped AS (
        SELECT g.plate, count(DISTINCT g.target_read)::int AS k, count(DISTINCT g.camera_id)::int AS cameras,
               count(DISTINCT (g.read_at AT TIME ZONE 'UTC')::date)::int AS days,
               jsonb_agg(jsonb_build_object('target_read_id', g.target_read, 'target_at', g.target_at,
                                            'target_camera_id', g.target_camera, 'target_lat', g.target_lat,
                                            'target_lon', g.target_lon, 'read_id', g.read_id, 'read_at', g.read_at,
                                            'camera_id', g.camera_id, 'lat', g.lat, 'lon', g.lon,
                                            'seconds_apart', round(extract(epoch FROM g.read_at - g.target_at)))
                         ORDER BY g.target_at) AS pairs
        FROM together g GROUP BY g.plate
        HAVING count(DISTINCT g.camera_id) >= p_min_places
    ), traffic AS (  -- each candidate's reads at each neighbourhood in the target read's hour of day: a probe each
        SELECT c.plate, t.read_id AS target_read, x.passes
        FROM grouped c CROSS JOIN target t
        JOIN near_cameras n ON n.target_read = t.read_id
        CROSS JOIN LATERAL (
            SELECT count(*) AS passes FROM alpr.reads r
            WHERE r.plate = c.plate AND r.camera_id = n.camera_id
              AND r.read_at >= p_from AND r.read_at < p_to AND r.logically_deleted_at IS NULL
              -- hours of day in UTC, whatever TimeZone the caller's session set
              AND extract(hour FROM r.read_at AT TIME ZONE 'UTC') = extract(hour FROM t.read_at AT TIME ZONE 'UTC')) x
    ), expectation AS (
        SELECT c.plate, coalesce(sum(tr.passes), 0) * 2 * extract(epoch FROM p_within)
                        / ((SELECT days FROM window_days) * 3600.0) AS expected
        FROM grouped c LEFT JOIN traffic tr ON tr.plate = c.plate GROUP BY c.plate
    )
    SELECT g.plate, g.k, g.cameras, g.days, e.expected, alpr.poisson_tail(g.k, e.expected), g.pairs
    FROM grouped g JOIN expectation e USING (plate)
    ORDER BY alpr.poisson_tail(g.k, e.expected), g.k DESC, g.plate
    LIMIT p_limit
$$;

CREATE OR REPLACE FUNCTION api.associates(p_access_id uuid, p_plate text, p_from timestamptz, p_to timestamptz,
                                          p_within_seconds integer DEFAULT 120, p_min_places integer DEFAULT 2)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
SET jit = off AS $$
DECLARE
    config jsonb := alpr.policy() -> 'associates';
    wanted text := alpr.normalize_plate(p_plate);
    params jsonb;
    checked record;
    window_days numeric;
    approval integer;
    scope jsonb := '{}';
    found jsonb;
    associates_found text[];
    read_ids bigint[];
    target_reads integer;
    row_total integer;
BEGIN
    params := jsonb_build_object('plate', wanted, 'from', p_from, 'to', p_to, 'within_seconds', p_within_seconds,
                                 'min_places', p_min_places);
    checked := alpr.check_session(p_access_id, 'associates', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    IF config IS NULL THEN
        RETURN alpr.refuse_call(checked.session, 'associates', 'not_enabled',
                                'this agency''s profile does not allow associate analysis ([associates])', params);
    END IF;
    -- Pattern-of-life work: only for the purposes the profile names (serious offences).
    IF NOT (config -> 'purposes') ? (checked.session).purpose THEN
        RETURN alpr.refuse_call(checked.session, 'associates', 'purpose_not_allowed',
            format('associate analysis is allowed only for %s; this case was opened for %s',
                   (SELECT string_agg(value, ', ') FROM jsonb_array_elements_text(config -> 'purposes')),
                   (checked.session).purpose), params, ARRAY['associate_analysis']);
    END IF;
    IF wanted !~ '^[A-Z0-9]{2,10}$' THEN
        RETURN alpr.refuse_call(checked.session, 'associates', 'invalid_plate',
                                'associate analysis needs one whole plate (2-10 letters and digits, no wildcards)', params);
    END IF;
    IF p_from IS NULL OR p_to IS NULL OR p_to <= p_from THEN
        RETURN alpr.refuse_call(checked.session, 'associates', 'invalid_window', 'the window needs a start before its end', params);
    END IF;
    IF p_within_seconds IS NULL OR p_within_seconds < 1 OR p_within_seconds > (config ->> 'max_within_seconds')::int THEN
        RETURN alpr.refuse_call(checked.session, 'associates', 'invalid_interval',
            format('within is 1 to %s seconds of the target''s reads', config ->> 'max_within_seconds'), params);
    END IF;
    IF p_min_places IS NULL OR p_min_places < 1 OR p_min_places > 20 THEN
        RETURN alpr.refuse_call(checked.session, 'associates', 'invalid_interval', 'min_places is 1 to 20 cameras', params);
    END IF;
    window_days := extract(epoch FROM p_to - p_from) / 86400.0;
    IF window_days > (config ->> 'max_window_days')::numeric THEN
        RETURN alpr.refuse_call(checked.session, 'associates', 'invalid_window',
            format('associate analysis covers at most %s days', config ->> 'max_window_days'), params);
    END IF;
    -- Above the profile's window, a supervisor's prior approval for this case (request_scope_approval).
    IF window_days > (config ->> 'approval_window_days')::numeric THEN
        SELECT a.approval_id INTO approval FROM alpr.scope_approvals a
        WHERE a.db_user = session_user AND a.case_number = (checked.session).case_number
          AND a.function_name = 'associates' AND a.decision = 'approved' AND a.expires_at > now()
          AND round(window_days * 24, 1) <= coalesce(a.window_hours, 0) + 1e-6
        ORDER BY a.decided_at DESC LIMIT 1;
        IF approval IS NULL THEN
            RETURN alpr.refuse_call(checked.session, 'associates', 'approval_required',
                format('associate analysis over %s days is above the %s days this policy lets run without a '
                       'supervisor''s prior approval: request one (request_scope_approval, function associates, '
                       'window %s hours) and run it again once approved', round(window_days, 1),
                       config ->> 'approval_window_days', ceil(window_days * 24)),
                params, ARRAY['over_scope', 'associate_analysis']);
        END IF;
        scope := jsonb_build_object('approval_id', approval);
    END IF;

    SELECT count(*) INTO target_reads FROM alpr.reads r
    WHERE r.plate = wanted AND r.read_at >= p_from AND r.read_at < p_to AND r.logically_deleted_at IS NULL;
    SELECT coalesce(jsonb_agg(jsonb_build_object('plate', a.plate, 'co_occurrences', a.co_occurrences,
                                                 'cameras', a.cameras, 'days', a.days,
                                                 'expected_by_chance', round(a.expected::numeric, 4),
                                                 'chance', a.chance, 'pairs', a.pairs)
                              ORDER BY a.chance, a.co_occurrences DESC, a.plate), '[]'),
           coalesce(array_agg(a.plate ORDER BY a.chance, a.co_occurrences DESC, a.plate), '{}'),
           count(*)
    INTO found, associates_found, row_total
    FROM alpr.associates_of(wanted, p_from, p_to, make_interval(secs => p_within_seconds),
                            (config ->> 'adjacent_m')::float8, p_min_places,
                            (config ->> 'max_target_reads')::int, (config ->> 'max_associates')::int) a;
    -- Both reads of every pair count against the budget: the answer shows where and when the target was too.
    SELECT coalesce(array_agg(DISTINCT id), '{}') INTO read_ids
    FROM jsonb_array_elements(found) associate, jsonb_array_elements(associate -> 'pairs') pair,
         LATERAL (VALUES ((pair ->> 'read_id')::bigint), ((pair ->> 'target_read_id')::bigint)) ids(id);
    -- The associates themselves are part of the record: who was put next to the target.
    scope := scope || jsonb_build_object('target_reads', target_reads, 'associates', to_jsonb(associates_found),
                                         'window_days', round(window_days, 2));
    RETURN alpr.deliver(checked.session, 'associates', 'associates',
        jsonb_build_object('associates', found, 'target_reads', target_reads), row_total, params, scope,
        CASE WHEN target_reads > (config ->> 'max_target_reads')::int
             THEN ARRAY[format('the target has %s reads in the window; the first %s were used', target_reads,
                               config ->> 'max_target_reads')] ELSE '{}'::text[] END,
        ARRAY['associate_analysis'], read_ids, associates_found || wanted, NULL);
END
$$;

REVOKE ALL ON FUNCTION alpr.poisson_tail(integer, double precision),
    alpr.associates_of(text, timestamptz, timestamptz, interval, double precision, integer, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION api.associates(uuid, text, timestamptz, timestamptz, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.associates(uuid, text, timestamptz, timestamptz, integer, integer) TO workbench_user;
