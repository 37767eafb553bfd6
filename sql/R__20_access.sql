-- Access sessions: the only door to ALPR data. Every outcome, granted or denied, is audited.
SET LOCAL ROLE alpr_owner;

DO $$ BEGIN
    IF to_regtype('api.call_result') IS NULL THEN
        CREATE TYPE api.call_result AS (
            result_id uuid, outcome text, reason_code text, message text,
            row_count integer, audit_id bigint, warnings text[]);
    END IF;
    IF to_regtype('api.access_grant') IS NULL THEN
        CREATE TYPE api.access_grant AS (
            access_id uuid, expires_at timestamptz, outcome text, reason_code text, message text,
            audit_id bigint, case_number text, purpose text);
    END IF;
END $$;

-- Why the caller may not have data right now (NULL when they may), checked at open and at every call.
CREATE OR REPLACE FUNCTION alpr.data_user_refusal(who alpr.users, OUT code text, OUT message text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    policy jsonb := alpr.policy();
    latest timestamptz;
    latest_reorientation timestamptz;
BEGIN
    IF who.user_id IS NULL THEN
        code := 'unknown_user';
        message := format('login %s is not registered as a workbench user; ask an administrator', session_user);
    ELSIF NOT who.active THEN
        code := 'account_deactivated';
        message := 'this account is deactivated; the attempt has been recorded and referred to Professional Standards';
    ELSIF NOT (policy -> 'access' -> 'roles_with_data_access') ? who.role THEN
        code := 'role_not_authorized';
        message := format('role %s has no access to ALPR data under this policy', who.role);
    ELSIF (policy -> 'access' ->> 'require_supervisor_authorization')::boolean AND who.supervisor_authorization IS NULL THEN
        code := 'no_supervisor_authorization';
        message := 'no written supervisor authorization is on file; ask your supervisor to record it';
    ELSE
        SELECT max(completed_at) INTO latest FROM alpr.training_records
        WHERE user_id = who.user_id AND passed AND kind <> 'administrator';
        SELECT max(completed_at) INTO latest_reorientation FROM alpr.training_records
        WHERE user_id = who.user_id AND passed AND kind = 'reorientation';
        IF latest IS NULL THEN
            code := 'training_required';
            message := format('complete the %s (notebook 06_policy_training) before any access',
                              policy -> 'training' ->> 'course');
        ELSIF latest < now() - make_interval(days => (policy -> 'training' ->> 'validity_days')::int) THEN
            code := 'training_expired';
            message := format('your training of %s has expired (annual refresher); retake notebook 06_policy_training',
                              to_char(latest, 'YYYY-MM-DD'));
        ELSIF who.last_data_access_at IS NOT NULL
              AND who.last_data_access_at < now() - make_interval(days => (policy -> 'training' ->> 'reorientation_after_days')::int)
              AND coalesce(latest_reorientation, '-infinity') < who.last_data_access_at + make_interval(days => (policy -> 'training' ->> 'reorientation_after_days')::int) THEN
            code := 'reorientation_required';
            message := 'no use for over a year: complete the reorientation course before access';
        END IF;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION api.open_access(p_case_number text, p_purpose text, p_justification text,
                                           p_client jsonb DEFAULT '{}')
RETURNS api.access_grant
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    policy jsonb := alpr.policy();
    who alpr.users;
    refusal record;
    code text;
    message text;
    flags text[] := '{}';
    case_row alpr.cases;
    clean_justification text := btrim(coalesce(p_justification, ''));
    result api.access_grant;
    params jsonb;
BEGIN
    SELECT * INTO who FROM alpr.users WHERE login = session_user;
    refusal := alpr.data_user_refusal(who);
    code := refusal.code;
    message := refusal.message;
    IF code = 'account_deactivated' THEN
        flags := ARRAY['professional_standards_review'];
    END IF;
    IF code IS NULL THEN
        IF p_case_number IS NULL OR btrim(p_case_number) = '' THEN
            code := 'invalid_case_number';
            message := format('a case number is required: %s', policy -> 'case_number' ->> 'description');
        ELSIF length(p_case_number) > 40 OR p_case_number !~ (policy -> 'case_number' ->> 'pattern') THEN
            code := 'invalid_case_number';
            message := format('case number %s is not in the agency format: expected %s',
                              quote_literal(alpr.clip(p_case_number, 40)), policy -> 'case_number' ->> 'description');
        ELSIF (policy -> 'case_number' ->> 'require_registry')::boolean THEN
            SELECT * INTO case_row FROM alpr.cases WHERE case_number = p_case_number;
            IF case_row.case_number IS NULL THEN
                code := 'case_not_found';
                message := format('case %s is not in the case registry; a case must be opened in the records system first', p_case_number);
            ELSIF case_row.status <> 'open' THEN
                code := 'case_closed';
                message := format('case %s is closed', p_case_number);
            ELSIF NOT EXISTS (SELECT 1 FROM alpr.case_assignments
                              WHERE case_number = p_case_number AND user_id = who.user_id) THEN
                code := 'not_assigned_to_case';
                message := format('you are not assigned to case %s (need to know); ask the case supervisor to assign you', p_case_number);
            END IF;
        END IF;
    END IF;
    IF code IS NULL THEN
        IF coalesce(p_purpose, '') = '' THEN
            code := 'unknown_purpose';
            message := 'a purpose is required; choose one of the authorized purposes';
        ELSIF (policy -> 'purposes' -> 'prohibited') ? p_purpose THEN
            code := 'prohibited_purpose';
            message := format('%s is a prohibited use of ALPR data under %s',
                              policy -> 'purposes' -> 'prohibited' -> p_purpose ->> 'label', policy -> 'agency' ->> 'policy');
            flags := ARRAY['prohibited_purpose'];
        ELSIF NOT (policy -> 'purposes' -> 'authorized') ? p_purpose THEN
            code := 'unknown_purpose';
            message := format('purpose %s is not an authorized purpose; authorized: %s', quote_literal(alpr.clip(p_purpose, 60)),
                              (SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(policy -> 'purposes' -> 'authorized') k));
        END IF;
    END IF;
    IF code IS NULL THEN
        IF length(clean_justification) < (policy -> 'justification' ->> 'min_length')::int
           OR lower(regexp_replace(clean_justification, '[^[:alnum:] /]', '', 'g')) IN
              (SELECT lower(value) FROM jsonb_array_elements_text(policy -> 'justification' -> 'refused')) THEN
            code := 'vague_justification';
            message := format('the justification must say why this case needs ALPR data (at least %s characters, not boilerplate)',
                              policy -> 'justification' ->> 'min_length');
            flags := ARRAY['vague_justification'];
        ELSIF length(clean_justification) > 4000 THEN
            code := 'justification_too_long';
            message := 'the justification is over 4000 characters; summarize it';
        END IF;
    END IF;

    params := jsonb_build_object('case_number', alpr.clip(p_case_number, 100), 'purpose', alpr.clip(p_purpose, 100));
    IF code IS NOT NULL THEN
        result.outcome := 'denied';
        result.reason_code := code;
        result.message := message;
        result.audit_id := alpr.write_audit('open_access', 'denied', code, NULL, p_case_number, p_purpose,
                                            p_justification, params, '{}', 0, flags, coalesce(p_client, '{}'));
        RETURN result;
    END IF;

    INSERT INTO alpr.access_sessions (user_id, db_user, case_number, purpose, justification, expires_at, client)
    VALUES (who.user_id, session_user, p_case_number, p_purpose, clean_justification,
            now() + make_interval(secs => (policy -> 'access' ->> 'session_hours')::numeric * 3600), coalesce(p_client, '{}'))
    RETURNING access_id, expires_at INTO result.access_id, result.expires_at;
    UPDATE alpr.users SET last_data_access_at = now() WHERE user_id = who.user_id;
    result.outcome := 'granted';
    result.case_number := p_case_number;
    result.purpose := p_purpose;
    result.audit_id := alpr.write_audit('open_access', 'granted', NULL, result.access_id, p_case_number, p_purpose,
                                        clean_justification, params, '{}', 0, '{}', coalesce(p_client, '{}'));
    RETURN result;
END
$$;

-- Checks an access id for a data call; on refusal writes the audit row itself and returns the refusal.
CREATE OR REPLACE FUNCTION alpr.check_session(p_access_id uuid, p_function text, p_parameters jsonb,
                                              OUT session alpr.access_sessions, OUT refusal api.call_result)
LANGUAGE plpgsql AS $$
DECLARE
    who alpr.users;
    user_refusal record;
    code text;
    message text;
    flags text[] := '{}';
BEGIN
    SELECT * INTO session FROM alpr.access_sessions WHERE access_id = p_access_id;
    SELECT * INTO who FROM alpr.users WHERE login = session_user;
    IF session.access_id IS NULL THEN
        code := 'unknown_access';
        message := 'no such access session; open a case first (open_case)';
    ELSIF session.db_user <> session_user THEN
        code := 'access_not_yours';
        message := 'this access session belongs to another login';
        flags := ARRAY['foreign_access_id'];
    ELSIF session.expires_at <= now() THEN
        code := 'access_expired';
        message := format('the access session expired at %s; open the case again', session.expires_at);
    ELSE
        user_refusal := alpr.data_user_refusal(who);
        code := user_refusal.code;
        message := user_refusal.message;
        IF code = 'account_deactivated' THEN
            flags := ARRAY['professional_standards_review'];
        END IF;
    END IF;
    IF code IS NOT NULL THEN
        refusal.outcome := 'denied';
        refusal.reason_code := code;
        refusal.message := message;
        refusal.row_count := 0;
        refusal.audit_id := alpr.write_audit(p_function, 'denied', code, p_access_id,
            CASE WHEN session.db_user = session_user THEN session.case_number END,
            CASE WHEN session.db_user = session_user THEN session.purpose END,
            NULL, p_parameters, '{}', 0, flags, '{}');
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION alpr.refuse_call(session alpr.access_sessions, p_function text, p_code text,
                                            p_message text, p_parameters jsonb, p_flags text[] DEFAULT '{}')
RETURNS api.call_result
LANGUAGE plpgsql AS $$
DECLARE
    refusal api.call_result;
BEGIN
    refusal.outcome := 'denied';
    refusal.reason_code := p_code;
    refusal.message := p_message;
    refusal.row_count := 0;
    refusal.audit_id := alpr.write_audit(p_function, 'denied', p_code, session.access_id, session.case_number,
                                         session.purpose, session.justification, p_parameters, '{}', 0, p_flags, '{}');
    RETURN refusal;
END
$$;

-- Audits a granted call and parks its rows until that audit row has committed. A supervisor's review
-- runs under no case session: it passes NULL, and the audit row and parked rows carry no access id.
CREATE OR REPLACE FUNCTION alpr.deliver(session alpr.access_sessions, p_function text, p_kind text,
                                        p_payload jsonb, p_rows integer, p_parameters jsonb, p_scope jsonb,
                                        p_warnings text[] DEFAULT '{}', p_flags text[] DEFAULT '{}')
RETURNS api.call_result
LANGUAGE plpgsql AS $$
DECLARE
    delivered api.call_result;
BEGIN
    delivered.outcome := 'granted';
    delivered.row_count := p_rows;
    delivered.warnings := p_warnings;
    delivered.audit_id := alpr.write_audit(p_function, 'granted', NULL, session.access_id, session.case_number,
                                           session.purpose, session.justification, p_parameters, p_scope,
                                           p_rows, p_flags, '{}');
    INSERT INTO alpr.result_sets (access_id, db_user, audit_id, kind, payload)
    VALUES (session.access_id, session_user, delivered.audit_id, p_kind, p_payload)
    RETURNING result_id INTO delivered.result_id;
    RETURN delivered;
END
$$;

-- Audits a granted call that changes something and returns no rows (a verification, a registration).
CREATE OR REPLACE FUNCTION alpr.acknowledge(session alpr.access_sessions, p_function text, p_parameters jsonb,
                                            p_message text)
RETURNS api.call_result
LANGUAGE plpgsql AS $$
DECLARE
    done api.call_result;
BEGIN
    done.outcome := 'granted';
    done.message := p_message;
    done.row_count := 0;
    done.audit_id := alpr.write_audit(p_function, 'granted', NULL, session.access_id, session.case_number,
                                      session.purpose, session.justification, p_parameters, '{}', 0, '{}', '{}');
    RETURN done;
END
$$;

-- Rows leave the database only once the transaction that audited them has committed: a caller who
-- rolls back (or fails the statement) after a query never sees its rows, so no data escapes the audit.
CREATE OR REPLACE FUNCTION api.fetch_result(p_result_id uuid) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    parked alpr.result_sets;
BEGIN
    SELECT * INTO parked FROM alpr.result_sets WHERE result_id = p_result_id;
    IF parked.result_id IS NULL OR parked.db_user <> session_user THEN
        RAISE EXCEPTION 'no result % for this login', p_result_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF pg_xact_status(parked.created_xid) IS DISTINCT FROM 'committed' THEN
        RAISE EXCEPTION 'result % is not available until the query that produced it has committed', p_result_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'run the query in autocommit mode, then fetch';
    END IF;
    -- Results of a case session expire with it; a supervisor's audit review (no session) within an hour.
    IF (parked.access_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM alpr.access_sessions WHERE access_id = parked.access_id AND expires_at > now()))
       OR (parked.access_id IS NULL AND parked.created_at < now() - interval '1 hour') THEN
        RAISE EXCEPTION 'the access session of result % has expired', p_result_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN parked.payload;
END
$$;

CREATE OR REPLACE FUNCTION api.whoami() RETURNS TABLE (login text, full_name text, role text, active boolean,
                                                       training_current boolean, refusal text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    who alpr.users;
    refusal record;
BEGIN
    SELECT * INTO who FROM alpr.users u WHERE u.login = session_user;
    refusal := alpr.data_user_refusal(who);
    RETURN QUERY SELECT session_user::text, who.full_name, who.role, coalesce(who.active, false),
                        refusal.code IS NULL OR refusal.code NOT IN ('training_required', 'training_expired', 'reorientation_required'),
                        refusal.message;
END
$$;

CREATE OR REPLACE FUNCTION api.policy_summary() RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT jsonb_build_object(
        'agency', p -> 'agency', 'case_number', p -> 'case_number', 'purposes', p -> 'purposes',
        'justification', p -> 'justification', 'search', p -> 'search', 'retention', p -> 'retention',
        'training', p -> 'training', 'sharing', p -> 'sharing')
    FROM alpr.policy_profile, LATERAL (SELECT profile AS p) x
$$;
