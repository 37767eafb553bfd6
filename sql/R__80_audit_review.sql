-- Supervisors review the audit log (Manhattan Beach 462.6(c): audits at least twice a year). Reading the
-- log is itself audited. Supervisors and administrators only.
SET LOCAL ROLE alpr_owner;

CREATE OR REPLACE FUNCTION api.audit_review(p_from timestamptz, p_to timestamptz, p_filters jsonb DEFAULT '{}')
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
SET jit = off  -- measured: compiling these large aggregate queries cost 2.5 s of a 3.4 s queue
AS $$
DECLARE
    filters jsonb := coalesce(p_filters, '{}');
    params jsonb := jsonb_build_object('from', p_from, 'to', p_to, 'filters', filters);
    payload jsonb;
    row_total integer;
    refusal api.call_result;
BEGIN
    refusal := alpr.review_refusal('audit_review', p_from, p_to, params);
    IF refusal.outcome IS NOT NULL THEN RETURN refusal; END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'audit_id', a.audit_id, 'logged_at', a.logged_at, 'db_user', a.db_user, 'username', a.username,
               'user_role', a.user_role, 'case_number', a.case_number, 'purpose', a.purpose,
               'justification', a.justification, 'function_name', a.function_name, 'parameters', a.parameters,
               'scope', a.scope, 'rows_returned', a.rows_returned, 'outcome', a.outcome, 'reason', a.reason,
               'flags', to_jsonb(a.flags), 'client', a.client) ORDER BY a.audit_id), '[]'), count(*)
      INTO payload, row_total
    FROM alpr.audit_log a
    WHERE a.logged_at >= p_from AND a.logged_at < p_to
      AND (NOT filters ? 'user' OR a.db_user = filters ->> 'user')
      AND (NOT filters ? 'case_number' OR a.case_number = filters ->> 'case_number')
      AND (NOT filters ? 'outcome' OR a.outcome = filters ->> 'outcome')
      AND (NOT filters ? 'function' OR a.function_name = filters ->> 'function')
      AND (NOT filters ? 'purpose' OR a.purpose = filters ->> 'purpose')
      AND (NOT filters ? 'plate' OR a.parameters ->> 'plate' = upper(filters ->> 'plate')
           OR a.parameters ->> 'pattern' = upper(filters ->> 'plate'));
    RETURN alpr.deliver(NULL, 'audit_review', 'audit', payload, row_total, params, '{}');
END
$$;

REVOKE ALL ON FUNCTION api.audit_review(timestamptz, timestamptz, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.audit_review(timestamptz, timestamptz, jsonb) TO workbench_supervisor, workbench_administrator;
GRANT EXECUTE ON FUNCTION api.fetch_result(uuid) TO workbench_supervisor, workbench_administrator;
