-- Proportionality and the First Amendment restriction, checked where the data is:
-- a search or canvass above the profile's approval thresholds runs only under a supervisor's prior
-- approval (audit.require_scope_approval), and one whose area comes near a sensitive place is flagged.
SET LOCAL ROLE alpr_owner;

-- Sensitive places within their radius of any of the query's areas (names, for the audit record).
CREATE OR REPLACE FUNCTION alpr.sensitive_places_near(p_areas geography[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT format('%s (%s)', sp.name, replace(sp.kind, '_', ' '))), '{}')
    FROM alpr.sensitive_places sp, unnest(p_areas) a
    WHERE sp.active AND a IS NOT NULL AND ST_DWithin(sp.location, a, sp.radius_m)
$$;

-- Checks a query's scope before it runs. On refusal writes the audit row (as refuse_call does) and returns
-- it; otherwise returns the flags and scope facts the granted call's audit row carries.
CREATE OR REPLACE FUNCTION alpr.scope_gate(session alpr.access_sessions, p_function text, p_area_km2 double precision,
                                           p_window_hours numeric, p_areas geography[], p_parameters jsonb,
                                           OUT refusal api.call_result, OUT flags text[], OUT scope jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    audit jsonb := alpr.policy() -> 'audit';
    area_limit double precision := (audit ->> 'approval_area_km2')::float8;
    window_limit numeric := (audit ->> 'approval_window_hours')::numeric;
    approval integer;
    places text[];
BEGIN
    flags := '{}';
    scope := '{}';
    IF coalesce(p_area_km2, 0) > area_limit OR coalesce(p_window_hours, 0) > window_limit THEN
        SELECT approval_id INTO approval FROM alpr.scope_approvals
        WHERE db_user = session_user AND case_number = session.case_number AND function_name = p_function
          AND decision = 'approved' AND expires_at > now()
          -- a dimension the approval leaves open stays within the profile's threshold
          AND coalesce(p_area_km2, 0) <= coalesce(area_km2, area_limit) + 1e-6
          AND coalesce(p_window_hours, 0) <= coalesce(window_hours, window_limit) + 1e-6
        ORDER BY decided_at DESC LIMIT 1;
        IF approval IS NOT NULL THEN
            scope := jsonb_build_object('approval_id', approval);
        ELSIF coalesce((audit ->> 'require_scope_approval')::boolean, false) THEN
            refusal := alpr.refuse_call(session, p_function, 'approval_required',
                format('this %s covers %s%s hours, above the %s km2 / %s hours this policy lets run without a '
                       'supervisor''s prior approval: request one (request_scope_approval) and run it again once approved',
                       replace(p_function, '_', ' '),
                       CASE WHEN p_area_km2 IS NULL THEN '' ELSE format('%s km2 over ', round(p_area_km2::numeric, 2)) END,
                       round(coalesce(p_window_hours, 0), 1), area_limit, window_limit),
                p_parameters, ARRAY['over_scope']);
            RETURN;
        ELSE
            flags := flags || 'over_scope'::text;
        END IF;
    END IF;
    IF coalesce((audit ->> 'flag_sensitive_places')::boolean, false) THEN
        places := alpr.sensitive_places_near(p_areas);
        IF cardinality(places) > 0 THEN
            flags := flags || 'sensitive_place'::text;
            scope := scope || jsonb_build_object('sensitive_places', to_jsonb(places));
        END IF;
    END IF;
END
$$;

DROP FUNCTION IF EXISTS api.request_scope_approval(uuid, text, numeric, numeric, text);

-- A user asks, under the open case, for what the profile lets run only with a supervisor's prior approval:
-- a search or canvass above the area / window thresholds, a pattern broader than max_plates_without_approval
-- (plates), more than the budget under this case (reads, plates), or a search of logically deleted data
-- (details: plate, from, to, category, court_order). A supervisor decides in their own session.
CREATE OR REPLACE FUNCTION api.request_scope_approval(p_access_id uuid, p_function text, p_area_km2 numeric,
                                                      p_window_hours numeric, p_reason text,
                                                      p_plates integer DEFAULT NULL, p_reads integer DEFAULT NULL,
                                                      p_details jsonb DEFAULT '{}')
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('function', alpr.clip(p_function, 40), 'area_km2', p_area_km2,
                                       'window_hours', p_window_hours, 'plates', p_plates, 'reads', p_reads,
                                       'details', p_details, 'reason', alpr.clip(p_reason, 1000));
    checked record;
    problem text;
    new_id integer;
BEGIN
    checked := alpr.check_session(p_access_id, 'request_scope_approval', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    problem := CASE
        WHEN p_function IS NULL OR p_function NOT IN ('search_plates', 'canvass', 'budget', 'search_deleted', 'associates')
            THEN 'approvals are for search_plates, canvass, budget, search_deleted or associates'
        WHEN p_area_km2 < 0 OR p_window_hours < 0 OR p_area_km2 = 'NaN' OR p_window_hours = 'NaN' OR p_plates <= 0 OR p_reads <= 0
            THEN 'sizes must be positive numbers'
        WHEN p_function = 'canvass' AND p_area_km2 IS NULL AND p_window_hours IS NULL
            THEN 'give the area (km2) and/or the window (hours) the canvass needs'
        WHEN p_function = 'search_plates' AND p_area_km2 IS NULL AND p_window_hours IS NULL AND p_plates IS NULL
            THEN 'give the area (km2), the window (hours) and/or the plates the search may match'
        WHEN p_function = 'associates' AND p_window_hours IS NULL
            THEN 'give the window (hours) the associate analysis needs'
        WHEN p_function = 'budget' AND p_plates IS NULL AND p_reads IS NULL
            THEN 'give the extra distinct reads and/or plates the case needs'
        WHEN p_function = 'search_deleted' AND (jsonb_typeof(p_details) IS DISTINCT FROM 'object'
                                                 OR NOT p_details ?& ARRAY['plate', 'from', 'to', 'category'])
            THEN 'a deleted-data search approval names the plate, the window (from, to) and the category'
        WHEN length(btrim(coalesce(p_reason, ''))) < 20
            THEN 'say why the case needs it (at least 20 characters)' END;
    IF problem IS NOT NULL THEN
        RETURN alpr.refuse_call(checked.session, 'request_scope_approval', 'invalid_request', problem, params);
    END IF;
    INSERT INTO alpr.scope_approvals (db_user, case_number, function_name, area_km2, window_hours, plates, reads, details, reason)
    VALUES (session_user, (checked.session).case_number, p_function, p_area_km2, p_window_hours, p_plates, p_reads,
            coalesce(p_details, '{}') || CASE WHEN p_function = 'search_deleted'
                                              THEN jsonb_build_object('plate', alpr.normalize_plate(p_details ->> 'plate'))
                                              ELSE '{}' END,
            btrim(p_reason))
    RETURNING approval_id INTO new_id;
    RETURN alpr.acknowledge(checked.session, 'request_scope_approval', params || jsonb_build_object('approval_id', new_id),
                            format('approval request %s sent to the supervisors', new_id),
                            jsonb_build_object('approval_id', new_id));
END
$$;

CREATE OR REPLACE FUNCTION api.decide_scope_approval(p_approval_id integer, p_approve boolean, p_note text,
                                                     p_valid_days integer DEFAULT 7)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('approval_id', p_approval_id, 'approve', p_approve, 'note', alpr.clip(p_note, 1000),
                                       'valid_days', p_valid_days);
    request alpr.scope_approvals;
BEGIN
    gate := alpr.role_check(ARRAY['supervisor'], 'decide_scope_approval', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    SELECT * INTO request FROM alpr.scope_approvals WHERE approval_id = p_approval_id;
    IF request.approval_id IS NULL THEN
        RETURN alpr.admin_result('decide_scope_approval', params, false, format('no approval request %s', p_approval_id));
    ELSIF request.decision IS NOT NULL THEN
        RETURN alpr.admin_result('decide_scope_approval', params, false,
                                 format('request %s was already %s by %s', p_approval_id, request.decision, request.decided_by));
    ELSIF request.db_user = session_user THEN
        RETURN alpr.admin_result('decide_scope_approval', params, false, 'nobody approves their own request');
    ELSIF p_approve IS NULL OR length(btrim(coalesce(p_note, ''))) < 10 OR p_valid_days NOT BETWEEN 1 AND 30 THEN
        RETURN alpr.admin_result('decide_scope_approval', params, false,
                                 'approve or refuse, with a note of at least 10 characters, valid 1 to 30 days');
    END IF;
    UPDATE alpr.scope_approvals
    SET decision = CASE WHEN p_approve THEN 'approved' ELSE 'refused' END, decided_by = session_user, decided_at = now(),
        decision_note = btrim(p_note), expires_at = CASE WHEN p_approve THEN now() + make_interval(days => p_valid_days) END
    WHERE approval_id = p_approval_id;
    RETURN alpr.admin_result('decide_scope_approval', params, true,
                             format('request %s %s', p_approval_id, CASE WHEN p_approve THEN 'approved' ELSE 'refused' END),
                             jsonb_build_object('approval_id', p_approval_id,
                                                'decision', CASE WHEN p_approve THEN 'approved' ELSE 'refused' END));
END
$$;

-- Pending and decided requests, for the supervisors' queue (audited as a review).
CREATE OR REPLACE FUNCTION api.scope_approvals(p_pending_only boolean DEFAULT true)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('pending_only', p_pending_only);
    payload jsonb;
    row_total integer;
BEGIN
    gate := alpr.role_check(ARRAY['supervisor', 'administrator'], 'scope_approvals', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.approval_id), '[]'), count(*) INTO payload, row_total
    FROM alpr.scope_approvals a WHERE NOT coalesce(p_pending_only, true) OR a.decision IS NULL;
    RETURN alpr.deliver(NULL, 'scope_approvals', 'scope_approvals', payload, row_total, params, '{}');
END
$$;

-- Each data query of the window beside its user's and the agency's usual scope for that kind of query
-- (medians over the 90 days before the window's end). Ratios compare area and window separately.
CREATE OR REPLACE FUNCTION alpr.scope_view(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (audit_id bigint, logged_at timestamptz, db_user text, case_number text, function_name text,
               area_km2 numeric, window_hours numeric, cameras integer, rows_returned integer,
               user_median_area numeric, user_median_hours numeric, agency_median_area numeric,
               agency_median_hours numeric, baseline_queries bigint, ratio_to_user numeric, ratio_to_agency numeric,
               approval_id integer, over_threshold boolean)
LANGUAGE sql STABLE AS $$
    WITH scoped AS (
        SELECT a.audit_id, a.logged_at, a.db_user, a.case_number, a.function_name, a.rows_returned,
               (a.scope ->> 'area_km2')::numeric AS area_km2, (a.scope ->> 'window_hours')::numeric AS window_hours,
               (a.scope ->> 'cameras')::integer AS cameras, (a.scope ->> 'approval_id')::integer AS approval_id
        FROM alpr.audit_log a
        WHERE a.logged_at >= p_to - interval '90 days' AND a.logged_at < p_to AND a.outcome = 'granted'
          AND a.function_name IN ('search_plates', 'canvass', 'plate_history')),
    agency AS MATERIALIZED (  -- computed once: inlined, the planner may rerun it per query row
        SELECT s.function_name, percentile_cont(0.5) WITHIN GROUP (ORDER BY s.area_km2) AS area,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.window_hours) AS hours, count(*) AS n
        FROM scoped s GROUP BY s.function_name),
    per_user AS MATERIALIZED (
        SELECT s.db_user, s.function_name, percentile_cont(0.5) WITHIN GROUP (ORDER BY s.area_km2) AS area,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.window_hours) AS hours, count(*) AS n
        FROM scoped s GROUP BY s.db_user, s.function_name),
    limits AS (
        SELECT (alpr.policy() -> 'audit' ->> 'approval_area_km2')::numeric AS area,
               (alpr.policy() -> 'audit' ->> 'approval_window_hours')::numeric AS hours)
    SELECT s.audit_id, s.logged_at, s.db_user, s.case_number, s.function_name, s.area_km2, s.window_hours, s.cameras,
           s.rows_returned, round(u.area::numeric, 4), round(u.hours::numeric, 1), round(g.area::numeric, 4),
           round(g.hours::numeric, 1), g.n,
           round(greatest(s.area_km2 / nullif(u.area, 0), s.window_hours / nullif(u.hours, 0))::numeric, 1),
           round(greatest(s.area_km2 / nullif(g.area, 0), s.window_hours / nullif(g.hours, 0))::numeric, 1),
           s.approval_id,
           s.function_name <> 'plate_history' AND (coalesce(s.area_km2, 0) > l.area OR coalesce(s.window_hours, 0) > l.hours)
    FROM scoped s JOIN agency g USING (function_name)
    JOIN per_user u ON u.db_user = s.db_user AND u.function_name = s.function_name
    CROSS JOIN limits l
    WHERE s.logged_at >= p_from
$$;

CREATE OR REPLACE FUNCTION api.proportionality(p_from timestamptz, p_to timestamptz)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
SET jit = off  -- measured: compiling these large aggregate queries cost 2.5 s of a 3.4 s queue
AS $$
DECLARE
    params jsonb := jsonb_build_object('from', p_from, 'to', p_to);
    payload jsonb;
    row_total integer;
    refusal api.call_result;
BEGIN
    refusal := alpr.review_refusal('proportionality', p_from, p_to, params);
    IF refusal.outcome IS NOT NULL THEN RETURN refusal; END IF;
    SELECT coalesce(jsonb_agg(to_jsonb(v) ORDER BY greatest(coalesce(v.ratio_to_agency, 0), coalesce(v.ratio_to_user, 0)) DESC,
                              v.audit_id), '[]'), count(*)
      INTO payload, row_total FROM alpr.scope_view(p_from, p_to) v;
    RETURN alpr.deliver(NULL, 'proportionality', 'proportionality', payload, row_total, params, '{}');
END
$$;

CREATE OR REPLACE FUNCTION api.admin_add_sensitive_place(p_name text, p_kind text, p_lat double precision,
                                                         p_lon double precision, p_radius_m real)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('name', alpr.clip(p_name, 200), 'kind', alpr.clip(p_kind, 40), 'lat', p_lat,
                                       'lon', p_lon, 'radius_m', p_radius_m);
    problem text := alpr.point_error(p_lat, p_lon);
BEGIN
    gate := alpr.role_check(ARRAY['administrator'], 'admin_add_sensitive_place', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    IF problem IS NULL AND (p_kind IS NULL OR p_kind NOT IN ('place_of_worship', 'health_clinic', 'protest_site', 'other')) THEN
        problem := 'kind must be place_of_worship, health_clinic, protest_site or other';
    END IF;
    IF problem IS NULL AND (p_radius_m IS NULL OR NOT p_radius_m BETWEEN 1 AND 2000) THEN
        problem := 'radius must be 1 to 2000 metres';
    END IF;
    IF problem IS NULL AND length(btrim(coalesce(p_name, ''))) < 3 THEN
        problem := 'name the place';
    END IF;
    IF problem IS NOT NULL THEN
        RETURN alpr.admin_result('admin_add_sensitive_place', params, false, problem);
    END IF;
    INSERT INTO alpr.sensitive_places (name, kind, location, radius_m)
    VALUES (btrim(p_name), p_kind, ST_SetSRID(ST_MakePoint(p_lon, p_lat), 4326)::geography, p_radius_m);
    RETURN alpr.admin_result('admin_add_sensitive_place', params, true, format('%s added', btrim(p_name)));
END
$$;

CREATE OR REPLACE FUNCTION api.sensitive_places() RETURNS TABLE (place_id integer, name text, kind text,
                                                                 lat double precision, lon double precision, radius_m real)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT place_id, name, kind, ST_Y(location::geometry), ST_X(location::geometry), radius_m
    FROM alpr.sensitive_places WHERE active ORDER BY place_id
$$;

REVOKE ALL ON FUNCTION alpr.sensitive_places_near(geography[]), alpr.scope_view(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.request_scope_approval(uuid, text, numeric, numeric, text, integer, integer, jsonb) TO workbench_user;
GRANT EXECUTE ON FUNCTION api.decide_scope_approval(integer, boolean, text, integer) TO workbench_supervisor;
GRANT EXECUTE ON FUNCTION api.scope_approvals(boolean), api.proportionality(timestamptz, timestamptz)
    TO workbench_supervisor, workbench_administrator;
GRANT EXECUTE ON FUNCTION api.admin_add_sensitive_place(text, text, double precision, double precision, real)
    TO workbench_administrator;
GRANT EXECUTE ON FUNCTION api.sensitive_places()
    TO workbench_user, workbench_supervisor, workbench_administrator, workbench_trainer;
