-- Administrator, supervisor and trainer functions. Each is granted to its group role alone (R__90).
SET LOCAL ROLE alpr_owner;

CREATE OR REPLACE FUNCTION alpr.require_role(p_roles text[], p_function text, p_parameters jsonb) RETURNS alpr.users
LANGUAGE plpgsql AS $$
DECLARE
    who alpr.users;
BEGIN
    SELECT * INTO who FROM alpr.users WHERE login = session_user;
    IF who.user_id IS NULL OR NOT who.active OR NOT who.role = ANY (p_roles) THEN
        -- Raising would roll back an audit row, so a refused admin call is recorded by the caller's
        -- denial path: write it, then return NULL for the caller to stop.
        PERFORM alpr.write_audit(p_function, 'denied', 'role_not_authorized', NULL, NULL, NULL, NULL,
                                 p_parameters, '{}', 0,
                                 CASE WHEN who.active IS FALSE THEN ARRAY['professional_standards_review'] ELSE '{}' END, '{}');
        RETURN NULL;
    END IF;
    RETURN who;
END
$$;

CREATE OR REPLACE FUNCTION alpr.admin_result(p_function text, p_parameters jsonb, p_ok boolean, p_message text)
RETURNS api.call_result
LANGUAGE plpgsql AS $$
DECLARE
    outcome api.call_result;
BEGIN
    outcome.outcome := CASE WHEN p_ok THEN 'granted' ELSE 'denied' END;
    outcome.reason_code := CASE WHEN p_ok THEN NULL ELSE 'refused' END;
    outcome.message := p_message;
    outcome.row_count := 0;
    outcome.audit_id := alpr.write_audit(p_function, outcome.outcome, CASE WHEN p_ok THEN NULL ELSE p_message END,
                                         NULL, NULL, NULL, NULL, p_parameters, '{}', 0, '{}', '{}');
    RETURN outcome;
END
$$;

-- The shared refusal of the supervisors' review functions: wrong role, or a window that is reversed, open
-- or longer than 400 days. NULL when the review may run (the refusal is already audited).
CREATE OR REPLACE FUNCTION alpr.review_refusal(p_function text, p_from timestamptz, p_to timestamptz,
                                               p_parameters jsonb) RETURNS api.call_result
LANGUAGE plpgsql AS $$
BEGIN
    IF alpr.require_role(ARRAY['supervisor', 'administrator'], p_function, p_parameters) IS NULL THEN
        RETURN ROW(NULL, 'denied', 'role_not_authorized', 'supervisors and administrators only', 0, NULL, NULL)::api.call_result;
    END IF;
    IF p_from IS NULL OR p_to IS NULL OR p_from >= p_to OR p_to - p_from > interval '400 days' THEN
        RETURN alpr.admin_result(p_function, p_parameters, false, 'give a window of at most 400 days whose start is before its end');
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION api.admin_create_user(p_login text, p_full_name text, p_role text, p_password text DEFAULT NULL)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('login', alpr.clip(p_login, 80), 'full_name', alpr.clip(p_full_name, 120), 'role', p_role);
    group_role text;
BEGIN
    IF alpr.require_role(ARRAY['administrator'], 'admin_create_user', params) IS NULL THEN
        RETURN ROW(NULL, 'denied', 'role_not_authorized', 'administrators only', 0, NULL, NULL)::api.call_result;
    END IF;
    IF p_login !~ '^[a-z][a-z0-9_]{2,62}$' THEN
        RETURN alpr.admin_result('admin_create_user', params, false, 'a login is 3-63 lowercase letters, digits or _');
    END IF;
    IF p_role NOT IN ('data_user', 'administrator', 'supervisor', 'trainer') THEN
        RETURN alpr.admin_result('admin_create_user', params, false, 'role must be data_user, administrator, supervisor or trainer');
    END IF;
    IF EXISTS (SELECT 1 FROM alpr.users WHERE login = p_login) THEN
        RETURN alpr.admin_result('admin_create_user', params, false, format('user %s already exists', p_login));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_login) THEN
        IF p_password IS NULL OR length(p_password) < 12 THEN
            RETURN alpr.admin_result('admin_create_user', params, false, 'a new login needs a password of at least 12 characters');
        END IF;
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', p_login, p_password);
    END IF;
    group_role := CASE p_role WHEN 'data_user' THEN 'workbench_user' WHEN 'administrator' THEN 'workbench_administrator'
                              WHEN 'supervisor' THEN 'workbench_supervisor' ELSE 'workbench_trainer' END;
    EXECUTE format('GRANT %I TO %I', group_role, p_login);
    IF p_role = 'administrator' THEN
        EXECUTE format('GRANT workbench_user TO %I', p_login);
    END IF;
    INSERT INTO alpr.users (login, full_name, role) VALUES (p_login, p_full_name, p_role);
    RETURN alpr.admin_result('admin_create_user', params, true, format('user %s created', p_login));
END
$$;

CREATE OR REPLACE FUNCTION api.admin_record_authorization(p_login text, p_authorization text, p_authorized_by text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('login', alpr.clip(p_login, 80), 'authorization', alpr.clip(p_authorization, 300),
                                       'authorized_by', alpr.clip(p_authorized_by, 120));
BEGIN
    IF alpr.require_role(ARRAY['administrator'], 'admin_record_authorization', params) IS NULL THEN
        RETURN ROW(NULL, 'denied', 'role_not_authorized', 'administrators only', 0, NULL, NULL)::api.call_result;
    END IF;
    IF coalesce(btrim(p_authorization), '') = '' OR coalesce(btrim(p_authorized_by), '') = '' THEN
        RETURN alpr.admin_result('admin_record_authorization', params, false, 'the written authorization and the supervisor who gave it are required');
    END IF;
    UPDATE alpr.users SET supervisor_authorization = p_authorization, authorized_by = p_authorized_by, authorized_at = now()
    WHERE login = p_login;
    IF NOT FOUND THEN
        RETURN alpr.admin_result('admin_record_authorization', params, false, format('no user %s', p_login));
    END IF;
    RETURN alpr.admin_result('admin_record_authorization', params, true, 'authorization recorded');
END
$$;

CREATE OR REPLACE FUNCTION api.admin_set_active(p_login text, p_active boolean, p_reason text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('login', alpr.clip(p_login, 80), 'active', p_active, 'reason', alpr.clip(p_reason, 500));
BEGIN
    IF alpr.require_role(ARRAY['administrator'], 'admin_set_active', params) IS NULL THEN
        RETURN ROW(NULL, 'denied', 'role_not_authorized', 'administrators only', 0, NULL, NULL)::api.call_result;
    END IF;
    IF coalesce(btrim(p_reason), '') = '' THEN
        RETURN alpr.admin_result('admin_set_active', params, false, 'a reason is required');
    END IF;
    UPDATE alpr.users SET active = p_active,
        deactivated_at = CASE WHEN p_active THEN NULL ELSE now() END,
        deactivation_reason = CASE WHEN p_active THEN NULL ELSE p_reason END
    WHERE login = p_login;
    IF NOT FOUND THEN
        RETURN alpr.admin_result('admin_set_active', params, false, format('no user %s', p_login));
    END IF;
    -- Open access sessions end at once.
    IF NOT p_active THEN
        UPDATE alpr.access_sessions SET expires_at = now() WHERE db_user = p_login AND expires_at > now();
    END IF;
    RETURN alpr.admin_result('admin_set_active', params, true, CASE WHEN p_active THEN 'reactivated' ELSE 'deactivated' END);
END
$$;

CREATE OR REPLACE FUNCTION api.admin_assign_case(p_case_number text, p_login text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('case_number', alpr.clip(p_case_number, 60), 'login', alpr.clip(p_login, 80));
    target integer;
BEGIN
    IF alpr.require_role(ARRAY['administrator', 'supervisor'], 'admin_assign_case', params) IS NULL THEN
        RETURN ROW(NULL, 'denied', 'role_not_authorized', 'administrators and supervisors only', 0, NULL, NULL)::api.call_result;
    END IF;
    SELECT user_id INTO target FROM alpr.users WHERE login = p_login;
    IF target IS NULL OR NOT EXISTS (SELECT 1 FROM alpr.cases WHERE case_number = p_case_number) THEN
        RETURN alpr.admin_result('admin_assign_case', params, false, 'unknown case or user');
    END IF;
    INSERT INTO alpr.case_assignments VALUES (p_case_number, target) ON CONFLICT DO NOTHING;
    RETURN alpr.admin_result('admin_assign_case', params, true, 'assigned');
END
$$;

-- Trainers record in-person courses; the quiz notebook records passes through api.submit_training.
CREATE OR REPLACE FUNCTION api.record_training(p_login text, p_course text, p_kind text, p_version text,
                                               p_score numeric, p_completed_at timestamptz DEFAULT now())
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('login', alpr.clip(p_login, 80), 'course', alpr.clip(p_course, 200),
                                       'kind', p_kind, 'version', alpr.clip(p_version, 40), 'score', p_score);
    trainer alpr.users;
    target integer;
    pass_mark numeric := (alpr.policy() -> 'training' ->> 'pass_mark')::numeric;
BEGIN
    trainer := alpr.require_role(ARRAY['trainer', 'administrator'], 'record_training', params);
    IF trainer IS NULL THEN
        RETURN ROW(NULL, 'denied', 'role_not_authorized', 'trainers and administrators only', 0, NULL, NULL)::api.call_result;
    END IF;
    SELECT user_id INTO target FROM alpr.users WHERE login = p_login;
    IF target IS NULL THEN
        RETURN alpr.admin_result('record_training', params, false, format('no user %s', p_login));
    END IF;
    IF p_kind NOT IN ('initial', 'refresher', 'reorientation', 'administrator', 'in_person')
       OR p_score IS NULL OR p_score NOT BETWEEN 0 AND 1 OR p_completed_at > now() THEN
        RETURN alpr.admin_result('record_training', params, false, 'kind must be a known course kind, score in [0, 1], date not in the future');
    END IF;
    INSERT INTO alpr.training_records (user_id, course, kind, version, score, passed, completed_at, trainer)
    VALUES (target, p_course, p_kind, p_version, p_score, p_score >= pass_mark, p_completed_at, trainer.full_name);
    RETURN alpr.admin_result('record_training', params, true,
                             CASE WHEN p_score >= pass_mark THEN 'passed' ELSE 'recorded: below the pass mark' END);
END
$$;

-- Recomputes the whole chain; returns the first broken link (supervisors only; the check is audited).
CREATE OR REPLACE FUNCTION api.verify_audit_chain()
RETURNS TABLE (ok boolean, records_checked bigint, first_broken_id bigint, detail text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    entry alpr.audit_log;
    previous bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
    expected_id bigint := 0;
    head alpr.audit_chain_head;
BEGIN
    IF alpr.require_role(ARRAY['supervisor', 'administrator'], 'verify_audit_chain', '{}') IS NULL THEN
        RETURN QUERY SELECT false, 0::bigint, NULL::bigint, 'supervisors only'::text;
        RETURN;
    END IF;
    ok := true;
    FOR entry IN SELECT * FROM alpr.audit_log ORDER BY audit_id LOOP
        expected_id := expected_id + 1;
        IF entry.audit_id <> expected_id THEN
            ok := false; first_broken_id := expected_id; detail := format('record %s is missing', expected_id);
        ELSIF entry.prev_hash <> previous THEN
            ok := false; first_broken_id := entry.audit_id; detail := format('record %s does not link to record %s', entry.audit_id, expected_id - 1);
        ELSIF entry.row_hash <> sha256(previous || alpr.audit_canonical(entry)) THEN
            ok := false; first_broken_id := entry.audit_id; detail := format('record %s was altered after it was written', entry.audit_id);
        END IF;
        EXIT WHEN NOT ok;
        previous := entry.row_hash;
    END LOOP;
    IF ok THEN
        SELECT * INTO head FROM alpr.audit_chain_head;
        IF head.last_id <> expected_id OR head.last_hash <> previous THEN
            ok := false; first_broken_id := expected_id + 1;
            detail := format('records after %s were removed (the chain head is at %s)', expected_id, head.last_id);
        END IF;
    END IF;
    records_checked := expected_id;
    detail := coalesce(detail, format('%s records, chain intact', expected_id));
    PERFORM alpr.write_audit('verify_audit_chain', 'granted', NULL, NULL, NULL, NULL, NULL,
                             jsonb_build_object('result', ok, 'first_broken_id', first_broken_id), '{}', 0, '{}', '{}');
    RETURN NEXT;
END
$$;
