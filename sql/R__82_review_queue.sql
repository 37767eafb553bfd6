-- The supervisor's review queue: audit records that raise a flag, each flag explained, ordered by a
-- risk score; a sign-off with a finding is recorded (and audited). Supervisors and administrators.
SET LOCAL ROLE alpr_owner;

-- Weights were read per flagged row by this helper; audit_flags now reads the profile once.
DROP FUNCTION IF EXISTS alpr.flag_weight(text, integer);

-- Flags of the audit records in a window, one row per (record, flag), with its weight and reason.
CREATE OR REPLACE FUNCTION alpr.audit_flags(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (audit_id bigint, flag text, weight integer, explanation text)
LANGUAGE sql STABLE AS $$
    WITH settings AS (SELECT alpr.policy() -> 'audit' AS audit,  -- read once, not per flagged row
                             alpr.policy() -> 'agency' ->> 'time_zone' AS zone),
    log AS (SELECT * FROM alpr.audit_log WHERE logged_at >= p_from AND logged_at < p_to),
    boilerplate AS (  -- the same justification typed for many different cases by one user
        SELECT db_user, justification FROM log
        WHERE function_name = 'open_access' AND justification IS NOT NULL
        GROUP BY db_user, justification HAVING count(DISTINCT case_number) >= 3),
    crowded_cases AS (SELECT case_number FROM log WHERE case_number IS NOT NULL
                      GROUP BY case_number HAVING count(DISTINCT db_user) >= 5),
    plate_cases AS (SELECT parameters ->> 'plate' AS plate FROM log WHERE parameters ? 'plate' AND case_number IS NOT NULL
                    GROUP BY 1 HAVING count(DISTINCT case_number) >= 3),
    case_plates AS (  -- one case used to look up very many different plates: flag the lookup that reached the limit
        SELECT case_number, first_id AS crossing_id, plates FROM (
            SELECT case_number, first_id, row_number() OVER (PARTITION BY case_number ORDER BY first_id) AS nth,
                   count(*) OVER (PARTITION BY case_number) AS plates
            FROM (SELECT case_number, parameters ->> 'plate' AS plate, min(audit_id) AS first_id FROM log
                  WHERE parameters ? 'plate' AND case_number IS NOT NULL AND outcome = 'granted'
                  GROUP BY 1, 2) firsts) ranked
        WHERE nth = (SELECT coalesce((audit ->> 'case_plate_limit')::int, 50) FROM settings)),
    busy_hours AS (  -- data calls per user per hour, against that user's usual hour in the 90 days before
        SELECT l.db_user, date_trunc('hour', l.logged_at) AS hour, count(*) AS calls, max(l.audit_id) AS last_id
        FROM log l WHERE l.access_id IS NOT NULL AND l.function_name <> 'open_access'
        GROUP BY 1, 2),
    usual AS (
        SELECT b.db_user, coalesce(avg(h.calls), 0) AS per_hour
        FROM (SELECT DISTINCT db_user FROM busy_hours) b
        LEFT JOIN LATERAL (
            SELECT count(*) AS calls FROM alpr.audit_log a
            WHERE a.db_user = b.db_user AND a.access_id IS NOT NULL AND a.function_name <> 'open_access'
              AND a.logged_at >= p_from - interval '90 days' AND a.logged_at < p_from
            GROUP BY date_trunc('hour', a.logged_at)) h ON true
        GROUP BY b.db_user),
    raised AS (  -- (record, flag, default weight, reason); the profile's [audit.flag_weights] override below
        SELECT audit_id, 'deactivated_account' AS flag, 10 AS default_weight,
               'a deactivated account tried to get data (Professional Standards review)' AS explanation
        FROM log WHERE 'professional_standards_review' = ANY (flags)
        UNION ALL
        SELECT audit_id, 'denied', 3, format('refused: %s', coalesce(reason, 'denied')) FROM log
        WHERE outcome = 'denied' AND NOT 'professional_standards_review' = ANY (flags)
        UNION ALL
        SELECT audit_id, 'foreign_access_id', 8,
               'used an access id that belongs to another login' FROM log
        WHERE 'foreign_access_id' = ANY (flags)
        UNION ALL
        SELECT l.audit_id, 'boilerplate_justification', 4,
               format('the same justification was given for %s or more cases', 3)
        FROM log l JOIN boilerplate b ON b.db_user = l.db_user AND b.justification = l.justification
        WHERE l.function_name = 'open_access'
        UNION ALL
        SELECT l.audit_id, 'case_used_by_many', 4,
               format('case %s was used by 5 or more people', l.case_number)
        FROM log l JOIN crowded_cases c ON c.case_number = l.case_number WHERE l.function_name = 'open_access'
        UNION ALL
        SELECT l.audit_id, 'plate_under_many_cases', 5,
               format('plate %s was looked up under 3 or more cases', l.parameters ->> 'plate')
        FROM log l JOIN plate_cases p ON p.plate = l.parameters ->> 'plate'
        UNION ALL
        SELECT c.crossing_id, 'case_many_plates', 3,
               format('%s different plates were looked up under case %s (the limit was reached here)', c.plates, c.case_number)
        FROM case_plates c
        UNION ALL
        SELECT audit_id, 'deleted_data_search', 6, 'searched logically deleted data'
        FROM log WHERE 'deleted_data_search' = ANY (flags)
        UNION ALL
        SELECT audit_id, 'associate_analysis', 3,
               format('associate analysis (pattern of life) on plate %s: %s associates returned', parameters ->> 'plate',
                      coalesce(jsonb_array_length(scope -> 'associates'), 0))
        FROM log WHERE 'associate_analysis' = ANY (flags)
        UNION ALL
        SELECT audit_id, 'export', 2,
               format('data left the system (%s)', coalesce(parameters ->> 'format', 'export')) FROM log
        WHERE function_name IN ('export', 'sharing_export') AND outcome = 'granted'
        UNION ALL
        SELECT audit_id, 'unusual_hour', 2, 'query between midnight and 5 am, agency time'
        FROM log, settings s
        WHERE outcome = 'granted' AND access_id IS NOT NULL
          AND extract(hour FROM logged_at AT TIME ZONE coalesce(s.zone, 'UTC')) < 5
        UNION ALL
        SELECT audit_id, 'harvesting', 8,
               CASE WHEN outcome = 'denied'
                    THEN 'reached the login''s budget of distinct reads or plates (refused: a supervisor''s approval is needed)'
                    ELSE format('%s distinct plates given to this login today, far above its usual %s a day',
                                scope ->> 'plates_today', coalesce(scope ->> 'usual_plates_per_day', '0')) END
        FROM log WHERE 'harvesting' = ANY (flags)
        UNION ALL
        SELECT audit_id, 'prohibited_purpose', 6,
               CASE WHEN 'disguised_purpose' = ANY (flags)
                    THEN format('asked for a prohibited purpose typed in disguise (%s)', purpose)
                    ELSE 'asked for ALPR data for a prohibited purpose' END
        FROM log WHERE 'prohibited_purpose' = ANY (flags)
        UNION ALL
        SELECT audit_id, 'prohibited_text', 5,
               format('the justification reads like %s, a prohibited purpose: check it against the case',
                      replace((SELECT string_agg(substr(f, 17), ', ') FROM unnest(flags) f WHERE f LIKE 'prohibited_text:%'), '_', ' '))
        FROM log WHERE EXISTS (SELECT 1 FROM unnest(flags) f WHERE f LIKE 'prohibited_text:%')
        UNION ALL
        SELECT audit_id, 'export_refused', 6, format('tried to export to %s, which is neither the case file nor an agency '
                                                     'with an approved sharing request', coalesce(parameters ->> 'destination', '?'))
        FROM log WHERE 'export_refused' = ANY (flags)
        UNION ALL
        SELECT audit_id, 'login_failures', 4,
               format('%s failed logins in the lockout window (passwords being guessed?)', parameters ->> 'in_window')
        FROM log WHERE 'login_failures' = ANY (flags)
        UNION ALL
        SELECT audit_id, 'account_locked', 6,
               format('login locked after %s failed logins; an administrator reactivates it', parameters ->> 'failures')
        FROM log WHERE 'account_locked' = ANY (flags)
        UNION ALL
        SELECT audit_id, 'session_ended', 2,
               CASE reason WHEN 'idle_in_transaction' THEN 'a session sat in an open transaction past the limit and was ended'
                           WHEN 'statement_too_long' THEN 'a statement ran past twice the limit (the session had loosened it) and was cancelled'
                           ELSE 'a connection past the data users'' share was ended' END
        FROM log WHERE 'session_ended' = ANY (flags)
        UNION ALL
        SELECT audit_id, 'training_failures', 3,
               format('%s failed quiz attempts in 30 days: the trainer should follow up', parameters ->> 'failures_30_days')
        FROM log WHERE 'training_failures' = ANY (flags)
        UNION ALL
        SELECT b.last_id, 'unusual_volume', 3,
               format('%s data queries in one hour (this user''s usual: %s per active hour)', b.calls, round(u.per_hour, 1))
        FROM busy_hours b JOIN usual u USING (db_user), settings s
        WHERE b.calls >= greatest(coalesce((s.audit ->> 'unusual_calls_per_hour')::int, 60), 3 * u.per_hour)
        UNION ALL
        SELECT audit_id, 'sensitive_place', 5,
               format('the area searched is near %s: searches must not monitor First Amendment activity',
                      (SELECT string_agg(value, ', ') FROM jsonb_array_elements_text(scope -> 'sensitive_places')))
        FROM log WHERE 'sensitive_place' = ANY (flags)
        UNION ALL
        SELECT audit_id, 'over_scope', 4,
               CASE WHEN outcome = 'denied' THEN 'tried a query above the approval thresholds without an approval'
                    ELSE 'ran a query above the approval thresholds (this policy flags rather than requires approval)' END
        FROM log WHERE 'over_scope' = ANY (flags)
        UNION ALL
        SELECT v.audit_id, 'disproportionate_scope', 3,
               format('scope %s times the agency''s usual and %s times this user''s usual %s (area %s km2, %s hours)',
                      coalesce(v.ratio_to_agency, 0), coalesce(v.ratio_to_user, 0), replace(v.function_name, '_', ' '),
                      coalesce(v.area_km2, 0), coalesce(v.window_hours, 0))
        FROM alpr.scope_view(p_from, p_to) v,
             (SELECT coalesce((audit ->> 'scope_factor')::numeric, 10) AS factor FROM settings) f
        -- one vehicle's history over a long window is ordinary; sweeps over areas and patterns are what grow
        WHERE v.function_name <> 'plate_history' AND v.baseline_queries >= 10 AND v.approval_id IS NULL
          AND (v.ratio_to_agency >= f.factor OR (v.ratio_to_user >= f.factor AND v.ratio_to_agency >= f.factor / 2))
    )
    SELECT r.audit_id, r.flag, coalesce((s.audit -> 'flag_weights' ->> r.flag)::integer, r.default_weight), r.explanation
    FROM raised r, settings s
$$;

CREATE OR REPLACE FUNCTION api.review_queue(p_from timestamptz, p_to timestamptz)
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
    refusal := alpr.review_refusal('review_queue', p_from, p_to, params);
    IF refusal.outcome IS NOT NULL THEN RETURN refusal; END IF;
    SELECT coalesce(jsonb_agg(item ORDER BY (item ->> 'risk')::int DESC, (item ->> 'audit_id')::bigint), '[]'), count(*)
      INTO payload, row_total
    FROM (SELECT jsonb_build_object(
                     'audit_id', a.audit_id, 'logged_at', a.logged_at, 'db_user', a.db_user, 'function_name', a.function_name,
                     'case_number', a.case_number, 'outcome', a.outcome, 'risk', sum(f.weight),
                     'flags', jsonb_agg(f.flag ORDER BY f.weight DESC), 'why', jsonb_agg(f.explanation ORDER BY f.weight DESC),
                     'signed_off', EXISTS (SELECT 1 FROM alpr.review_signoffs s WHERE s.audit_id = a.audit_id)) AS item
          FROM alpr.audit_flags(p_from, p_to) f JOIN alpr.audit_log a ON a.audit_id = f.audit_id
          GROUP BY a.audit_id) q;
    RETURN alpr.deliver(NULL, 'review_queue', 'review_queue', payload, row_total, params, '{}');
END
$$;

CREATE OR REPLACE FUNCTION api.review_signoff(p_audit_id bigint, p_flag text, p_finding text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('audit_id', p_audit_id, 'flag', alpr.clip(p_flag, 60), 'finding', alpr.clip(p_finding, 1000));
BEGIN
    gate := alpr.role_check(ARRAY['supervisor', 'administrator'], 'review_signoff', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    IF NOT EXISTS (SELECT 1 FROM alpr.audit_log WHERE audit_id = p_audit_id) THEN
        RETURN alpr.admin_result('review_signoff', params, false, format('no audit record %s', p_audit_id));
    END IF;
    IF length(btrim(coalesce(p_finding, ''))) < 10 THEN
        RETURN alpr.admin_result('review_signoff', params, false, 'write the finding (at least 10 characters)');
    END IF;
    INSERT INTO alpr.review_signoffs (audit_id, flag, finding) VALUES (p_audit_id, coalesce(p_flag, ''), btrim(p_finding));
    RETURN alpr.admin_result('review_signoff', params, true, format('record %s signed off', p_audit_id));
END
$$;

REVOKE ALL ON FUNCTION alpr.audit_flags(timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION api.review_queue(timestamptz, timestamptz), api.review_signoff(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.review_queue(timestamptz, timestamptz), api.review_signoff(bigint, text, text)
    TO workbench_supervisor, workbench_administrator;
