-- Search of logically deleted data: administrators only, for one of the profile's qualifying offense
-- categories (or a court order), and only as a supervisor (the commanding officer's delegate) approved it
-- beforehand in their own session: the administrator asks (request_scope_approval('search_deleted', ...)
-- with plate, window, category and court order), then runs exactly what was approved. Flagged in the
-- audit log for the supervisor's review (LAPD 568.53).
SET LOCAL ROLE alpr_owner;

DROP FUNCTION IF EXISTS api.search_deleted(uuid, text, timestamptz, timestamptz, text, text, text);

CREATE OR REPLACE FUNCTION api.search_deleted(p_access_id uuid, p_approval_id integer)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    rules jsonb := alpr.policy() -> 'deleted_data';
    row_cap integer := (alpr.policy() -> 'search' ->> 'max_result_rows')::int;
    params jsonb := jsonb_build_object('approval_id', p_approval_id);
    checked record;
    who alpr.users;
    approval alpr.scope_approvals;
    wanted text;
    window_from timestamptz;
    window_to timestamptz;
    refusal api.call_result;
    answer record;
    deleted_total integer;
BEGIN
    checked := alpr.check_session(p_access_id, 'search_deleted', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    SELECT * INTO who FROM alpr.users WHERE login = session_user;
    IF who.role IS DISTINCT FROM coalesce(rules ->> 'requires_role', 'administrator') THEN
        RETURN alpr.refuse_call(checked.session, 'search_deleted', 'role_not_authorized',
            'logically deleted data is searchable by administrators only', params, ARRAY['deleted_data_search']);
    END IF;
    SELECT * INTO approval FROM alpr.scope_approvals
    WHERE approval_id = p_approval_id AND function_name = 'search_deleted' AND db_user = session_user
      AND case_number = (checked.session).case_number;
    IF approval.approval_id IS NULL OR approval.decision IS DISTINCT FROM 'approved' OR approval.expires_at <= now() THEN
        RETURN alpr.refuse_call(checked.session, 'search_deleted', 'approval_required',
            format('deleted-data search %s is not approved for you under case %s (or its approval expired): ask for it with '
                   'request_scope_approval(''search_deleted'', ...) and run it once a supervisor approves',
                   coalesce(p_approval_id::text, 'NULL'), (checked.session).case_number),
            params, ARRAY['deleted_data_search']);
    END IF;
    params := params || jsonb_build_object('plate', approval.details ->> 'plate', 'from', approval.details ->> 'from',
                                           'to', approval.details ->> 'to', 'category', approval.details ->> 'category',
                                           'court_order', approval.details ->> 'court_order',
                                           'approved_by', approval.decided_by);
    IF NOT coalesce(rules -> 'qualifying_categories', '[]') ? coalesce(approval.details ->> 'category', '') THEN
        RETURN alpr.refuse_call(checked.session, 'search_deleted', 'unknown_purpose',
            format('%s is not a qualifying category; one of %s',
                   quote_literal(alpr.clip(coalesce(approval.details ->> 'category', ''), 40)),
                   rules -> 'qualifying_categories'), params, ARRAY['deleted_data_search']);
    END IF;
    IF approval.details ->> 'category' = 'court_order' AND length(btrim(coalesce(approval.details ->> 'court_order', ''))) < 5 THEN
        RETURN alpr.refuse_call(checked.session, 'search_deleted', 'invalid_justification',
            'name the court order (number and court)', params, ARRAY['deleted_data_search']);
    END IF;
    wanted := alpr.normalize_plate(approval.details ->> 'plate');
    BEGIN
        window_from := (approval.details ->> 'from')::timestamptz;
        window_to := (approval.details ->> 'to')::timestamptz;
    EXCEPTION WHEN data_exception THEN
        window_from := NULL;
    END;
    refusal := alpr.plate_window_refusal(checked.session, 'search_deleted', wanted, approval.details ->> 'plate',
                                         window_from, window_to, interval '100 years', params);
    IF refusal.outcome IS NOT NULL THEN RETURN refusal; END IF;
    WITH hits AS (
        SELECT r, row_number() OVER (ORDER BY r.read_at) AS n FROM alpr.reads r
        WHERE r.plate = wanted AND r.read_at >= window_from AND r.read_at < window_to
        ORDER BY r.read_at LIMIT row_cap + 1)
    SELECT * INTO answer FROM alpr.reads_answer((SELECT array_agg(r ORDER BY n) FROM hits), row_cap);
    SELECT count(*) INTO deleted_total FROM alpr.reads r
    WHERE r.read_id = ANY (answer.read_ids) AND r.logically_deleted_at IS NOT NULL
      AND r.read_at >= window_from AND r.read_at < window_to;
    RETURN alpr.deliver(checked.session, 'search_deleted', 'reads', answer.payload, answer.row_total,
        params || jsonb_build_object('deleted_rows', deleted_total), '{}', '{}', ARRAY['deleted_data_search'],
        answer.read_ids, answer.plates, answer.capped);
END
$$;

REVOKE ALL ON FUNCTION api.search_deleted(uuid, integer) FROM PUBLIC;
-- Administrators only: data users hold no grant, so the server refuses their call before it runs.
GRANT EXECUTE ON FUNCTION api.search_deleted(uuid, integer) TO workbench_administrator;
