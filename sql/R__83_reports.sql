-- Figures for the semi-annual audit report, the annual usage report (Livermore 460.10) and the public
-- transparency report, computed from the audit log and the registries, never typed in. Supervisors and
-- administrators; each report run is audited. Plate numbers only when asked, and never in the public one.
SET LOCAL ROLE alpr_owner;

CREATE OR REPLACE FUNCTION alpr.report_figures(p_from timestamptz, p_to timestamptz, p_public boolean,
                                               p_include_plates boolean)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH log AS (SELECT * FROM alpr.audit_log WHERE logged_at >= p_from AND logged_at < p_to),
    data_calls AS (SELECT * FROM log WHERE function_name IN ('search_plates', 'plate_history', 'canvass', 'hits',
                                                             'read_image', 'search_deleted'))
    SELECT jsonb_build_object(
        'period', jsonb_build_object('from', p_from, 'to', p_to),
        'agency', alpr.policy() -> 'agency' ->> 'name',
        'policy', alpr.policy() -> 'agency' ->> 'policy',
        'generated_at', now(),
        'cases_opened_by_purpose', (
            SELECT coalesce(jsonb_object_agg(purpose, n), '{}') FROM (
                SELECT coalesce(purpose, '(none)') AS purpose, count(*) AS n FROM log
                WHERE function_name = 'open_access' AND outcome = 'granted' GROUP BY 1) x),
        'searches_by_purpose_and_outcome', (
            SELECT coalesce(jsonb_agg(jsonb_build_object('purpose', purpose, 'function', function_name,
                                                         'outcome', outcome, 'count', n) ORDER BY purpose, function_name, outcome), '[]')
            FROM (SELECT coalesce(purpose, '(none)') AS purpose, function_name, outcome, count(*) AS n
                  FROM data_calls GROUP BY 1, 2, 3) x),
        'outcomes', (SELECT coalesce(jsonb_object_agg(outcome, n), '{}')
                     FROM (SELECT outcome, count(*) AS n FROM log GROUP BY 1) x),
        'refusals_by_reason', (SELECT coalesce(jsonb_object_agg(reason, n), '{}')
                               -- free-text refusal messages can quote what was typed (a plate): codes only
                               FROM (SELECT CASE WHEN reason ~ '^[a-z_]+$' THEN reason
                                                 ELSE format('refused (%s)', function_name) END AS reason,
                                            count(*) AS n FROM log
                                     WHERE outcome = 'denied' GROUP BY 1) x),
        'rows_returned', (SELECT coalesce(sum(rows_returned), 0) FROM data_calls WHERE outcome = 'granted'),
        'people_with_data_calls', (SELECT count(DISTINCT db_user) FROM data_calls),
        'by_user', CASE WHEN p_public THEN NULL ELSE (
            SELECT coalesce(jsonb_agg(jsonb_build_object('user', db_user, 'name', username, 'calls', calls,
                                                         'denied', denied, 'exports', exports, 'cases', cases)
                                      ORDER BY calls DESC, db_user), '[]')
            FROM (SELECT db_user, max(username) AS username, count(*) AS calls,
                         count(*) FILTER (WHERE outcome = 'denied') AS denied,
                         count(*) FILTER (WHERE function_name IN ('export', 'sharing_export') AND outcome = 'granted') AS exports,
                         count(DISTINCT case_number) AS cases
                  FROM log WHERE access_id IS NOT NULL OR function_name = 'open_access' GROUP BY db_user) x) END,
        'hits', (SELECT jsonb_build_object(
                    'total', count(*),
                    'confirmed', count(*) FILTER (WHERE verification_note LIKE 'confirmed:%'),
                    'not_confirmed', count(*) FILTER (WHERE verification_note LIKE 'not confirmed:%'),
                    'awaiting_verification', count(*) FILTER (WHERE verified_at IS NULL),
                    'exact', count(*) FILTER (WHERE match_kind = 'exact'),
                    'lookalike', count(*) FILTER (WHERE match_kind = 'lookalike'))
                 FROM alpr.hits WHERE created_at >= p_from AND created_at < p_to),
        'exports', (SELECT count(*) FROM log WHERE function_name = 'export' AND outcome = 'granted'),
        'sharing', (SELECT jsonb_build_object(
                        'requests', count(*), 'approved', count(*) FILTER (WHERE decision = 'approved'),
                        'refused', count(*) FILTER (WHERE decision = 'refused'),
                        'pending', count(*) FILTER (WHERE decision IS NULL),
                        'partners', coalesce((SELECT jsonb_object_agg(agency_name, n) FROM (
                            SELECT agency_name, count(*) AS n FROM alpr.sharing_requests
                            WHERE decision = 'approved' AND received_at >= p_from AND received_at < p_to
                            GROUP BY 1) p), '{}'),
                        'exports', (SELECT count(*) FROM log WHERE function_name = 'sharing_export' AND outcome = 'granted'))
                    FROM alpr.sharing_requests WHERE received_at >= p_from AND received_at < p_to),
        'retention_runs', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'at', logged_at, 'logically_deleted', parameters -> 'logically_deleted',
                       'rows_deleted', coalesce((parameters ->> 'rows_deleted')::bigint, 0)
                                       + coalesce((parameters ->> 'rows_in_dropped_partitions')::bigint, 0),
                       'kept_under_legal_hold', parameters -> 'kept_under_legal_hold') ORDER BY audit_id), '[]')
            FROM log WHERE function_name = 'retention_run' AND outcome = 'granted'
              AND NOT coalesce((parameters ->> 'dry_run')::boolean, true)),
        'legal_holds', jsonb_build_object(
            'requested', (SELECT count(*) FROM log WHERE function_name = 'legal_hold_request' AND outcome = 'granted'),
            'released', (SELECT count(*) FROM log WHERE function_name = 'legal_hold_release' AND outcome = 'granted'),
            'active_at_end', (SELECT count(*) FROM alpr.legal_holds WHERE approved_at < p_to
                              AND (released_at IS NULL OR released_at >= p_to))),
        'audits', jsonb_build_object(
            'chain_verifications', (SELECT count(*) FROM log WHERE function_name = 'verify_audit_chain'),
            'log_reviews', (SELECT count(*) FROM log WHERE function_name IN ('audit_review', 'review_queue')),
            'sign_offs', (SELECT count(*) FROM alpr.review_signoffs WHERE signed_at >= p_from AND signed_at < p_to),
            'flags', (SELECT coalesce(jsonb_object_agg(flag, n), '{}')
                      FROM (SELECT flag, count(*) AS n FROM alpr.audit_flags(p_from, p_to) GROUP BY 1) f)),
        'scope_approvals', (SELECT jsonb_build_object('requested', count(*),
                                                      'approved', count(*) FILTER (WHERE decision = 'approved'),
                                                      'refused', count(*) FILTER (WHERE decision = 'refused'))
                            FROM alpr.scope_approvals WHERE requested_at >= p_from AND requested_at < p_to),
        'training', (SELECT jsonb_build_object(
                        'records', count(*), 'passed', count(*) FILTER (WHERE passed),
                        'by_kind', coalesce((SELECT jsonb_object_agg(kind, n) FROM (
                            SELECT kind, count(*) AS n FROM alpr.training_records
                            WHERE completed_at >= p_from AND completed_at < p_to GROUP BY 1) k), '{}'))
                     FROM alpr.training_records WHERE completed_at >= p_from AND completed_at < p_to),
        'plates_most_queried', CASE WHEN p_include_plates AND NOT p_public THEN (
            SELECT coalesce(jsonb_agg(jsonb_build_object('plate', plate, 'queries', n, 'cases', cases)
                                      ORDER BY n DESC, plate), '[]')
            FROM (SELECT parameters ->> 'plate' AS plate, count(*) AS n, count(DISTINCT case_number) AS cases
                  FROM log WHERE parameters ? 'plate' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 25) p) END)
$$;

CREATE OR REPLACE FUNCTION api.usage_report(p_from timestamptz, p_to timestamptz, p_public boolean DEFAULT false,
                                            p_include_plates boolean DEFAULT false)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
SET jit = off  -- measured: compiling these large aggregate queries cost 2.5 s of a 3.4 s queue
AS $$
DECLARE
    params jsonb := jsonb_build_object('from', p_from, 'to', p_to, 'public', p_public, 'include_plates', p_include_plates);
    refusal api.call_result;
BEGIN
    refusal := alpr.review_refusal('usage_report', p_from, p_to, params);
    IF refusal.outcome IS NOT NULL THEN RETURN refusal; END IF;
    IF coalesce(p_public, false) AND coalesce(p_include_plates, false) THEN
        RETURN alpr.admin_result('usage_report', params, false, 'a public report never contains plate numbers');
    END IF;
    RETURN alpr.deliver(NULL, 'usage_report', 'report',
                        alpr.report_figures(p_from, p_to, coalesce(p_public, false), coalesce(p_include_plates, false)),
                        1, params, '{}');
END
$$;

REVOKE ALL ON FUNCTION alpr.report_figures(timestamptz, timestamptz, boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.usage_report(timestamptz, timestamptz, boolean, boolean)
    TO workbench_supervisor, workbench_administrator;
