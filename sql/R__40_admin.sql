-- Administrator, supervisor and trainer functions. Each is granted to its group role alone (R__90).
SET LOCAL ROLE alpr_owner;

-- The caller's account when it is active and holds one of p_roles; otherwise the refusal, audited, with its
-- audit record id (a deactivated account's attempt is referred to Professional Standards).
CREATE OR REPLACE FUNCTION alpr.role_check(p_roles text[], p_function text, p_parameters jsonb,
                                           OUT who alpr.users, OUT refusal api.call_result)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT * INTO who FROM alpr.users WHERE login = session_user;
    IF who.user_id IS NOT NULL AND who.active AND who.role = ANY (p_roles) THEN
        RETURN;
    END IF;
    refusal.outcome := 'denied';
    refusal.reason_code := CASE WHEN who.active IS FALSE THEN 'account_deactivated' ELSE 'role_not_authorized' END;
    refusal.message := CASE WHEN who.active IS FALSE
        THEN 'this account is deactivated; the attempt has been recorded and referred to Professional Standards'
        ELSE format('%s only', (SELECT string_agg(replace(r, '_', ' ') || 's', ' and ') FROM unnest(p_roles) r)) END;
    -- Returned, not raised: raising would roll the audit row back with it.
    refusal.audit_id := alpr.write_audit(p_function, 'denied', refusal.reason_code, NULL, NULL, NULL, NULL,
                                         p_parameters, '{}', 0,
                                         CASE WHEN who.active IS FALSE THEN ARRAY['professional_standards_review'] ELSE '{}' END,
                                         '{}');
    who := NULL;
END
$$;

DROP FUNCTION IF EXISTS alpr.require_role(text[], text, jsonb);

-- An administrative answer that holds no ALPR data: returned at once, with its values as named details.
CREATE OR REPLACE FUNCTION alpr.admin_result(p_function text, p_parameters jsonb, p_ok boolean, p_message text,
                                             p_details jsonb DEFAULT NULL, p_code text DEFAULT 'refused')
RETURNS api.call_result
LANGUAGE plpgsql AS $$
DECLARE
    outcome api.call_result;
BEGIN
    outcome.outcome := CASE WHEN p_ok THEN 'granted' ELSE 'denied' END;
    outcome.reason_code := CASE WHEN p_ok THEN NULL ELSE p_code END;
    outcome.message := p_message;
    outcome.details := p_details;
    outcome.audit_id := alpr.write_audit(p_function, outcome.outcome, CASE WHEN p_ok THEN NULL ELSE p_message END,
                                         NULL, NULL, NULL, NULL, p_parameters || coalesce(p_details, '{}'), '{}', 0,
                                         '{}', '{}');
    RETURN outcome;
END
$$;

-- An administrative answer whose figures depend on ALPR data (a retention run's counts, new hits): parked
-- behind its audit row like a query's rows, so a rolled-back run tells nothing.
CREATE OR REPLACE FUNCTION alpr.admin_deferred(p_function text, p_parameters jsonb, p_message text, p_details jsonb)
RETURNS api.call_result
LANGUAGE plpgsql AS $$
BEGIN
    RETURN alpr.park(NULL,
        alpr.write_audit(p_function, 'granted', NULL, NULL, NULL, NULL, NULL, p_parameters || coalesce(p_details, '{}'),
                         '{}', 0, '{}', '{}'),
        'acknowledgement', 'granted', NULL, p_message, coalesce(p_details, '{}'), 0, '{}');
END
$$;

-- The shared refusal of the supervisors' review functions: wrong role, or a window that is reversed, open
-- or longer than 400 days. NULL when the review may run (the refusal is already audited).
CREATE OR REPLACE FUNCTION alpr.review_refusal(p_function text, p_from timestamptz, p_to timestamptz,
                                               p_parameters jsonb) RETURNS api.call_result
LANGUAGE plpgsql AS $$
DECLARE
    gate record;
BEGIN
    gate := alpr.role_check(ARRAY['supervisor', 'administrator'], p_function, p_parameters);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    IF p_from IS NULL OR p_to IS NULL OR p_from >= p_to OR p_to - p_from > interval '400 days' THEN
        RETURN alpr.admin_result(p_function, p_parameters, false, 'give a window of at most 400 days whose start is before its end',
                                 NULL, 'invalid_window');
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION api.admin_create_user(p_login text, p_full_name text, p_role text, p_password text DEFAULT NULL)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('login', alpr.clip(p_login, 80), 'full_name', alpr.clip(p_full_name, 120), 'role', p_role);
    group_role text;
BEGIN
    gate := alpr.role_check(ARRAY['administrator'], 'admin_create_user', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    IF p_login !~ '^[a-z][a-z0-9_]{2,62}$' THEN
        RETURN alpr.admin_result('admin_create_user', params, false, 'a login is 3-63 lowercase letters, digits or _');
    END IF;
    IF p_role IS NULL OR p_role NOT IN ('data_user', 'administrator', 'supervisor', 'trainer', 'feeder') THEN
        RETURN alpr.admin_result('admin_create_user', params, false,
                                 'role must be data_user, administrator, supervisor, trainer or feeder');
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
                              WHEN 'supervisor' THEN 'workbench_supervisor' WHEN 'feeder' THEN 'workbench_feeder'
                              ELSE 'workbench_trainer' END;
    EXECUTE format('GRANT %I TO %I', group_role, p_login);
    -- CONNECT to this database only, login by login (no group holds it, so no other database is reachable).
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), p_login);
    IF p_role = 'administrator' THEN
        EXECUTE format('GRANT workbench_user TO %I', p_login);
    END IF;
    INSERT INTO alpr.users (login, full_name, role) VALUES (p_login, p_full_name, p_role);
    PERFORM alpr.apply_login_limits(p_login);  -- the profile's timeouts and connection limit
    RETURN alpr.admin_result('admin_create_user', params, true, format('user %s created', p_login),
                             jsonb_build_object('login', p_login, 'role', p_role));
END
$$;

DROP FUNCTION IF EXISTS api.admin_record_authorization(text, text, text);

-- A supervisor's written authorization of a data user (LAPD 568.53, "ALPR Data Users - Defined"), given in
-- the supervisor's own session: who authorized is the login that called, never a name typed by someone else.
CREATE OR REPLACE FUNCTION api.record_authorization(p_login text, p_authorization text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('login', alpr.clip(p_login, 80), 'authorization', alpr.clip(p_authorization, 300));
BEGIN
    gate := alpr.role_check(ARRAY['supervisor'], 'record_authorization', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    IF length(btrim(coalesce(p_authorization, ''))) < 10 THEN
        RETURN alpr.admin_result('record_authorization', params, false,
                                 'cite the written authorization (memo number and scope, at least 10 characters)');
    END IF;
    IF p_login = session_user THEN
        RETURN alpr.admin_result('record_authorization', params, false, 'nobody authorizes themselves');
    END IF;
    UPDATE alpr.users SET supervisor_authorization = btrim(p_authorization), authorized_by = session_user, authorized_at = now()
    WHERE login = p_login;
    IF NOT FOUND THEN
        RETURN alpr.admin_result('record_authorization', params, false, format('no user %s', p_login));
    END IF;
    RETURN alpr.admin_result('record_authorization', params, true,
                             format('authorization of %s recorded by %s', p_login, session_user),
                             jsonb_build_object('authorized_by', session_user));
END
$$;

CREATE OR REPLACE FUNCTION api.admin_set_active(p_login text, p_active boolean, p_reason text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('login', alpr.clip(p_login, 80), 'active', p_active, 'reason', alpr.clip(p_reason, 500));
BEGIN
    gate := alpr.role_check(ARRAY['administrator'], 'admin_set_active', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
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
    -- A login locked after failed logins can log in again once reactivated.
    IF p_active AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_login AND NOT rolcanlogin AND NOT rolsuper) THEN
        EXECUTE format('ALTER ROLE %I LOGIN', p_login);
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
    gate record;
    params jsonb := jsonb_build_object('case_number', alpr.clip(p_case_number, 60), 'login', alpr.clip(p_login, 80));
    target integer;
BEGIN
    gate := alpr.role_check(ARRAY['administrator', 'supervisor'], 'admin_assign_case', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
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
    gate record;
    target integer;
    pass_mark numeric := (alpr.policy() -> 'training' ->> 'pass_mark')::numeric;
BEGIN
    gate := alpr.role_check(ARRAY['trainer', 'administrator'], 'record_training', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    trainer := gate.who;
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

-- Links what is committed, then recomputes the whole chain: every link in order, each pointing at the one
-- before and hashing its record unchanged; the head where the last link is; no committed record left out.
-- With a checkpoint (published earlier outside the database: {chain_seq, row_hash}) it also says whether the
-- chain still holds that link unchanged, with everything after it: a truncated and rewound chain, or an edited
-- and re-hashed one, fails there. Supervisors and administrators; the check is audited.
DROP FUNCTION IF EXISTS api.verify_audit_chain();
CREATE OR REPLACE FUNCTION api.verify_audit_chain(p_checkpoint jsonb DEFAULT NULL)
RETURNS TABLE (ok boolean, records_checked bigint, first_broken_id bigint, detail text, pending bigint,
               head jsonb, checkpoint_ok boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    link record;
    previous bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
    expected_seq bigint := 0;
    chain_head alpr.audit_chain_head;
    stray bigint;
    gate record;
    anchor record;
BEGIN
    gate := alpr.role_check(ARRAY['supervisor', 'administrator'], 'verify_audit_chain', coalesce(p_checkpoint, '{}'));
    IF (gate.refusal).outcome IS NOT NULL THEN
        RETURN QUERY SELECT false, 0::bigint, NULL::bigint, (gate.refusal).message, NULL::bigint, NULL::jsonb, NULL::boolean;
        RETURN;
    END IF;
    PERFORM alpr.chain_audit();
    ok := true;
    FOR link IN SELECT c.chain_seq, c.audit_id, c.prev_hash, c.row_hash, a AS entry
                FROM alpr.audit_chain c LEFT JOIN alpr.audit_log a ON a.audit_id = c.audit_id ORDER BY c.chain_seq LOOP
        expected_seq := expected_seq + 1;
        IF link.chain_seq <> expected_seq THEN
            ok := false; first_broken_id := link.audit_id; detail := format('link %s of the chain is missing', expected_seq);
        ELSIF (link.entry).audit_id IS NULL THEN
            ok := false; first_broken_id := link.audit_id; detail := format('record %s is missing', link.audit_id);
        ELSIF link.prev_hash <> previous THEN
            ok := false; first_broken_id := link.audit_id;
            detail := format('record %s does not link to the record before it', link.audit_id);
        ELSIF link.row_hash <> sha256(previous || alpr.audit_canonical(link.entry)) THEN
            ok := false; first_broken_id := link.audit_id; detail := format('record %s was altered after it was written', link.audit_id);
        END IF;
        EXIT WHEN NOT ok;
        previous := link.row_hash;
    END LOOP;
    SELECT * INTO chain_head FROM alpr.audit_chain_head;
    IF ok AND (chain_head.last_seq <> expected_seq OR chain_head.last_hash <> previous) THEN
        ok := false; first_broken_id := NULL;
        detail := format('links after %s were removed (the chain head is at %s)', expected_seq, chain_head.last_seq);
    END IF;
    -- Committed records the chainer passed over: written outside the audit writer, or their links removed.
    SELECT min(a.audit_id), count(*) FILTER (WHERE a.logged_at >= chain_head.scan_from)
      INTO stray, pending
    FROM alpr.audit_log a WHERE NOT EXISTS (SELECT 1 FROM alpr.audit_chain c WHERE c.audit_id = a.audit_id);
    IF ok AND stray IS NOT NULL AND pending < (SELECT count(*) FROM alpr.audit_log a
                                                WHERE NOT EXISTS (SELECT 1 FROM alpr.audit_chain c WHERE c.audit_id = a.audit_id)) THEN
        ok := false; first_broken_id := stray; detail := format('record %s is not in the chain', stray);
    END IF;
    head := alpr.chain_checkpoint();
    IF p_checkpoint IS NOT NULL THEN
        SELECT c.chain_seq, c.row_hash INTO anchor FROM alpr.audit_chain c
        WHERE c.chain_seq = (p_checkpoint ->> 'chain_seq')::bigint;
        checkpoint_ok := anchor.chain_seq IS NOT NULL AND encode(anchor.row_hash, 'hex') = p_checkpoint ->> 'row_hash';
        IF NOT checkpoint_ok THEN
            ok := false;
            detail := coalesce(detail || '; ', '') || CASE
                WHEN anchor.chain_seq IS NULL THEN format('the checkpoint''s link %s (taken %s) is no longer in the chain: '
                                                         'records were removed and the chain rewound',
                                                         p_checkpoint ->> 'chain_seq', p_checkpoint ->> 'taken_at')
                ELSE format('the chain no longer matches the checkpoint at link %s (taken %s): records up to it were '
                            'changed and re-hashed', p_checkpoint ->> 'chain_seq', p_checkpoint ->> 'taken_at') END;
        END IF;
    END IF;
    records_checked := expected_seq;
    detail := coalesce(detail, format('%s records, chain intact%s', expected_seq,
                                      CASE WHEN p_checkpoint IS NOT NULL THEN ' and holding the checkpoint' ELSE '' END));
    PERFORM alpr.write_audit('verify_audit_chain', 'granted', NULL, NULL, NULL, NULL, NULL,
                             jsonb_build_object('result', ok, 'first_broken_id', first_broken_id, 'checkpoint', p_checkpoint),
                             '{}', 0, '{}', '{}');
    RETURN NEXT;
END
$$;

-- The chain's head after linking what is committed, for a checkpoint written outside the database.
CREATE OR REPLACE FUNCTION api.audit_checkpoint() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
BEGIN
    gate := alpr.role_check(ARRAY['supervisor', 'administrator'], 'audit_checkpoint', '{}');
    IF (gate.refusal).outcome IS NOT NULL THEN
        RETURN jsonb_build_object('outcome', 'denied', 'message', (gate.refusal).message, 'audit_id', (gate.refusal).audit_id);
    END IF;
    PERFORM alpr.chain_audit();
    RETURN alpr.chain_checkpoint() || jsonb_build_object('outcome', 'granted');
END
$$;
