-- Search of logically deleted data: administrators only, for one of the profile's qualifying offense
-- categories (or a court order), with the commanding officer's approval recorded; flagged in the audit
-- log for the supervisor's review (LAPD 568.53).
SET LOCAL ROLE alpr_owner;

CREATE OR REPLACE FUNCTION api.search_deleted(p_access_id uuid, p_plate text, p_from timestamptz, p_to timestamptz,
                                              p_category text, p_court_order text, p_commanding_officer_approval text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    rules jsonb := alpr.policy() -> 'deleted_data';
    params jsonb := jsonb_build_object('plate', alpr.clip(p_plate, 40), 'from', p_from, 'to', p_to,
                                       'category', alpr.clip(p_category, 80), 'court_order', alpr.clip(p_court_order, 200),
                                       'commanding_officer_approval', alpr.clip(p_commanding_officer_approval, 200));
    checked record;
    who alpr.users;
    wanted text := alpr.normalize_plate(p_plate);
    refusal api.call_result;
    payload jsonb;
    row_total integer;
    deleted_total integer;
BEGIN
    checked := alpr.check_session(p_access_id, 'search_deleted', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    SELECT * INTO who FROM alpr.users WHERE login = session_user;
    IF who.role IS DISTINCT FROM coalesce(rules ->> 'requires_role', 'administrator') THEN
        RETURN alpr.refuse_call(checked.session, 'search_deleted', 'role_not_authorized',
            'logically deleted data is searchable by administrators only', params, ARRAY['deleted_data_search']);
    END IF;
    IF NOT coalesce(rules -> 'qualifying_categories', '[]') ? coalesce(p_category, '') THEN
        RETURN alpr.refuse_call(checked.session, 'search_deleted', 'unknown_purpose',
            format('%s is not a qualifying category; one of %s', quote_literal(alpr.clip(coalesce(p_category, ''), 40)),
                   rules -> 'qualifying_categories'), params, ARRAY['deleted_data_search']);
    END IF;
    IF p_category = 'court_order' AND length(btrim(coalesce(p_court_order, ''))) < 5 THEN
        RETURN alpr.refuse_call(checked.session, 'search_deleted', 'invalid_justification',
            'name the court order (number and court)', params, ARRAY['deleted_data_search']);
    END IF;
    IF coalesce((rules ->> 'requires_commanding_officer_approval')::boolean, true)
       AND length(btrim(coalesce(p_commanding_officer_approval, ''))) < 5 THEN
        RETURN alpr.refuse_call(checked.session, 'search_deleted', 'invalid_justification',
            'the commanding officer''s approval must be recorded (name and reference)', params, ARRAY['deleted_data_search']);
    END IF;
    refusal := alpr.plate_window_refusal(checked.session, 'search_deleted', wanted, p_plate, p_from, p_to, interval '100 years',
                                         params);
    IF refusal.outcome IS NOT NULL THEN RETURN refusal; END IF;
    SELECT coalesce(jsonb_agg(alpr.read_json(r) || jsonb_build_object('logically_deleted_at', r.logically_deleted_at)
                              ORDER BY r.read_at), '[]'),
           count(*), count(r.logically_deleted_at)
      INTO payload, row_total, deleted_total
    FROM alpr.reads r WHERE r.plate = wanted AND r.read_at >= p_from AND r.read_at < p_to;
    RETURN alpr.deliver(checked.session, 'search_deleted', 'reads', payload, row_total,
        params || jsonb_build_object('deleted_rows', deleted_total), '{}', '{}', ARRAY['deleted_data_search']);
END
$$;

REVOKE ALL ON FUNCTION api.search_deleted(uuid, text, timestamptz, timestamptz, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.search_deleted(uuid, text, timestamptz, timestamptz, text, text, text) TO workbench_user;
