-- Access sessions: the only door to ALPR data. Every outcome, granted or denied, is audited.
SET LOCAL ROLE alpr_owner;

DO $$ BEGIN
    IF to_regtype('api.call_result') IS NULL THEN
        CREATE TYPE api.call_result AS (
            result_id uuid, outcome text, reason_code text, message text,
            row_count integer, audit_id bigint, warnings text[], details jsonb);
    ELSIF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'api.call_result'::regclass AND attname = 'details') THEN
        -- Values of an administrative answer by name (the client never parses the message).
        ALTER TYPE api.call_result ADD ATTRIBUTE details jsonb;
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

-- What the rules judge: NFKC (fullwidth and styled letters become plain ones), invisible characters
-- removed, every run of whitespace (tabs, no-break spaces) one space.
CREATE OR REPLACE FUNCTION alpr.normalized_text(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(
        regexp_replace(normalize(coalesce(p, ''), NFKC),
                       '[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]',
                       '', 'g'),
        '[[:space:]\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+', ' ', 'g'))
$$;

-- A purpose as typed, folded to the profile's key form: case, Unicode compatibility forms and the common
-- Cyrillic and Greek look-alikes of Latin letters, so a disguised prohibited purpose is still that purpose.
CREATE OR REPLACE FUNCTION alpr.purpose_key(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(translate(lower(alpr.normalized_text(p)),
                                    'аеорсухіјѕԁһӏԛԝкмтвпɡıαοερτυχικνѵ',
                                    'aeopcyxijsdhlqwkmtbngiaoeptuxiknvv'),
                          '[ \-]+', '_', 'g')
$$;

-- Why a justification does not say why the case needs the data (NULL code when it does), and any flag
-- it raises: a prohibited purpose stated in words is refused or flagged per the profile.
CREATE OR REPLACE FUNCTION alpr.justification_refusal(p_text text, OUT code text, OUT message text,
                                                      OUT flags text[], OUT clean text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    policy jsonb := alpr.policy();
    rules jsonb := policy -> 'justification';
    words text[];
    distinct_words integer;
    wordlike integer;
    placeholders integer;
    rule record;
BEGIN
    flags := '{}';
    clean := alpr.normalized_text(p_text);
    SELECT coalesce(array_agg(m[1]), '{}') INTO words FROM regexp_matches(lower(clean), '([[:alpha:]]+)', 'g') m;
    SELECT count(DISTINCT w) FILTER (WHERE length(w) >= 2),
           -- a word: two letters or more, a vowel when it is ASCII, no letter three times in a row
           count(*) FILTER (WHERE length(w) >= 2 AND w !~ '(.)\1\1' AND (w !~ '^[a-z]+$' OR w ~ '[aeiouy]')),
           count(*) FILTER (WHERE rules -> 'placeholders' ? w)
      INTO distinct_words, wordlike, placeholders FROM unnest(words) w;
    FOR rule IN SELECT key, value FROM jsonb_each(coalesce(rules -> 'prohibited_text', '{}')) LOOP
        IF EXISTS (SELECT 1 FROM jsonb_array_elements_text(rule.value -> 'terms') t WHERE clean ~* t) THEN
            IF rule.value ->> 'action' = 'refuse' THEN
                code := 'prohibited_purpose';
                message := format('the justification describes %s, a prohibited use of ALPR data under %s',
                                  lower(policy -> 'purposes' -> 'prohibited' -> rule.key ->> 'label'),
                                  policy -> 'agency' ->> 'policy');
                flags := ARRAY['prohibited_purpose'];
                RETURN;
            END IF;
            flags := flags || ('prohibited_text:' || rule.key);
        END IF;
    END LOOP;
    IF length(clean) > 4000 THEN
        code := 'justification_too_long';
        message := 'the justification is over 4000 characters; summarize it';
    ELSIF length(clean) < (rules ->> 'min_length')::int
          OR lower(regexp_replace(clean, '[^[:alnum:] /]', '', 'g')) IN (SELECT lower(value) FROM jsonb_array_elements_text(rules -> 'refused'))
          OR distinct_words < coalesce((rules ->> 'min_distinct_words')::int, 1)
          OR distinct_words < 0.5 * cardinality(words)
          OR wordlike < 0.6 * cardinality(words)
          OR placeholders >= 0.3 * cardinality(words) THEN
        code := 'vague_justification';
        message := format('the justification must say in words why this case needs ALPR data: at least %s characters '
                          'and %s different words, no repetition, placeholder or boilerplate text',
                          rules ->> 'min_length', coalesce(rules ->> 'min_distinct_words', '1'));
        flags := flags || 'vague_justification'::text;
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
    judged record;
    code text;
    message text;
    flags text[] := '{}';
    case_row alpr.cases;
    purpose text := alpr.purpose_key(p_purpose);
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
        IF purpose = '' THEN
            code := 'unknown_purpose';
            message := 'a purpose is required; choose one of the authorized purposes';
        ELSIF (policy -> 'purposes' -> 'prohibited') ? purpose THEN
            code := 'prohibited_purpose';
            message := format('%s is a prohibited use of ALPR data under %s',
                              policy -> 'purposes' -> 'prohibited' -> purpose ->> 'label', policy -> 'agency' ->> 'policy');
            -- typed in another case or with look-alike letters: the disguise is part of the record
            flags := CASE WHEN purpose <> p_purpose THEN ARRAY['prohibited_purpose', 'disguised_purpose']
                          ELSE ARRAY['prohibited_purpose'] END;
        ELSIF NOT (policy -> 'purposes' -> 'authorized') ? purpose THEN
            code := 'unknown_purpose';
            message := format('purpose %s is not an authorized purpose; authorized: %s', quote_literal(alpr.clip(p_purpose, 60)),
                              (SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(policy -> 'purposes' -> 'authorized') k));
        END IF;
    END IF;
    IF code IS NULL THEN
        judged := alpr.justification_refusal(p_justification);
        code := judged.code;
        message := judged.message;
        flags := flags || judged.flags;
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
    VALUES (who.user_id, session_user, p_case_number, purpose, judged.clean,
            now() + make_interval(secs => (policy -> 'access' ->> 'session_hours')::numeric * 3600), coalesce(p_client, '{}'))
    RETURNING access_id, expires_at INTO result.access_id, result.expires_at;
    UPDATE alpr.users SET last_data_access_at = now() WHERE user_id = who.user_id;
    result.outcome := 'granted';
    result.case_number := p_case_number;
    result.purpose := purpose;
    result.audit_id := alpr.write_audit('open_access', 'granted', NULL, result.access_id, p_case_number, purpose,
                                        judged.clean, params, '{}', 0, flags, coalesce(p_client, '{}'));
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

-- A refusal that depends on nothing but the call itself (its session, its parameters): returned at once.
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
    refusal.audit_id := alpr.write_audit(p_function, 'denied', p_code, session.access_id, session.case_number,
                                         session.purpose, session.justification, p_parameters, '{}', 0, p_flags, '{}');
    RETURN refusal;
END
$$;

-- Parks an answer under its audit row and returns the handle. Everything a caller learns (rows, counts,
-- messages, even whether the data let the call succeed) waits behind api.fetch_result, which hands it out
-- only once the transaction that wrote the audit row has committed.
CREATE OR REPLACE FUNCTION alpr.park(session alpr.access_sessions, p_audit_id bigint, p_kind text, p_outcome text,
                                     p_reason_code text, p_message text, p_payload jsonb, p_rows integer,
                                     p_warnings text[], p_capped jsonb DEFAULT NULL)
RETURNS api.call_result
LANGUAGE plpgsql AS $$
DECLARE
    handle api.call_result;
BEGIN
    INSERT INTO alpr.result_sets (access_id, db_user, audit_id, kind, payload, outcome, reason_code, message, row_count,
                                  warnings, capped)
    VALUES (session.access_id, session_user, p_audit_id, p_kind, p_payload, p_outcome, p_reason_code, p_message,
            p_rows, coalesce(p_warnings, '{}'), p_capped)
    RETURNING result_id INTO handle.result_id;
    handle.outcome := 'accepted';
    handle.audit_id := p_audit_id;
    RETURN handle;
END
$$;

-- A refusal that depends on the data (the dictionary says the pattern is too broad, the budget is spent,
-- the read has no image): audited now, told only through the fetch, so a rolled-back call learns nothing.
CREATE OR REPLACE FUNCTION alpr.refuse_deferred(session alpr.access_sessions, p_function text, p_code text,
                                                p_message text, p_parameters jsonb, p_flags text[] DEFAULT '{}',
                                                p_scope jsonb DEFAULT '{}')
RETURNS api.call_result
LANGUAGE plpgsql AS $$
BEGIN
    RETURN alpr.park(session,
        alpr.write_audit(p_function, 'denied', p_code, session.access_id, session.case_number, session.purpose,
                         session.justification, p_parameters, coalesce(p_scope, '{}'), 0, p_flags, '{}'),
        'refusal', 'denied', p_code, p_message, NULL, 0, '{}');
END
$$;

-- Charges what a result gives its login against the profile's budget (access.budget): distinct reads and
-- plates new to this login today (agency time) and under this case. Over a limit, nothing is charged and
-- the refusal says so (never how much the query matched); a supervisor's 'budget' approval under the case
-- raises the limits. Distinct plates far above the login's usual day raise the harvesting flag at once.
CREATE OR REPLACE FUNCTION alpr.spend_budget(session alpr.access_sessions, p_read_ids bigint[], p_plates text[],
                                             OUT refusal text, OUT flags text[], OUT scope jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    policy jsonb := alpr.policy();
    budget jsonb := policy -> 'access' -> 'budget';
    today date := (now() AT TIME ZONE coalesce(policy -> 'agency' ->> 'time_zone', 'UTC'))::date;
    extra record;
    spent record;
    day_totals alpr.disclosure_totals;
    case_totals alpr.disclosure_totals;
    usual numeric;
    over text;
BEGIN
    flags := '{}';
    scope := '{}';
    IF budget IS NULL THEN RETURN; END IF;
    SELECT NULL::integer AS approval_id, 0 AS reads, 0 AS plates INTO extra;
    BEGIN
        WITH items AS (
            SELECT DISTINCT 1::smallint AS kind, r AS item FROM unnest(p_read_ids) r
            UNION ALL
            SELECT DISTINCT 2::smallint, hashtextextended(p, 0) FROM unnest(p_plates) p),
        new_today AS (
            INSERT INTO alpr.disclosed_by_day SELECT session_user, today, kind, item FROM items
            ON CONFLICT DO NOTHING RETURNING kind),
        new_in_case AS (
            INSERT INTO alpr.disclosed_by_case SELECT session_user, session.case_number, kind, item FROM items
            ON CONFLICT DO NOTHING RETURNING kind)
        SELECT (SELECT count(*) FILTER (WHERE kind = 1) FROM new_today) AS day_reads,
               (SELECT count(*) FILTER (WHERE kind = 2) FROM new_today) AS day_plates,
               (SELECT count(*) FILTER (WHERE kind = 1) FROM new_in_case) AS case_reads,
               (SELECT count(*) FILTER (WHERE kind = 2) FROM new_in_case) AS case_plates
          INTO spent;
        IF spent.day_reads = 0 AND spent.day_plates = 0 AND spent.case_reads = 0 AND spent.case_plates = 0 THEN
            -- nothing this login had not been given already (a result fetched again): nothing to charge
            scope := jsonb_build_object('new_reads', 0, 'new_plates', 0);
            RETURN;
        END IF;
        -- Locks this login's two totals rows until commit: one login's calls wait for each other, no one else's.
        INSERT INTO alpr.disclosure_totals AS t (db_user, scope, scope_key, reads, plates)
        VALUES (session_user, 'day', today::text, spent.day_reads, spent.day_plates)
        ON CONFLICT (db_user, scope, scope_key) DO UPDATE
            SET reads = t.reads + excluded.reads, plates = t.plates + excluded.plates, updated_at = now()
        RETURNING * INTO day_totals;
        INSERT INTO alpr.disclosure_totals AS t (db_user, scope, scope_key, reads, plates)
        VALUES (session_user, 'case', session.case_number, spent.case_reads, spent.case_plates)
        ON CONFLICT (db_user, scope, scope_key) DO UPDATE
            SET reads = t.reads + excluded.reads, plates = t.plates + excluded.plates, updated_at = now()
        RETURNING * INTO case_totals;
        IF day_totals.plates > (budget ->> 'plates_per_day')::int OR day_totals.reads > (budget ->> 'reads_per_day')::int
           OR case_totals.plates > (budget ->> 'plates_per_case')::int
           OR case_totals.reads > (budget ->> 'reads_per_case')::int THEN
            -- past the profile's budget: a supervisor's approval under this case may raise it
            SELECT approval_id, coalesce(reads, 0) AS reads, coalesce(plates, 0) AS plates INTO extra
            FROM alpr.scope_approvals
            WHERE db_user = session_user AND case_number = session.case_number AND function_name = 'budget'
              AND decision = 'approved' AND expires_at > now()
            ORDER BY decided_at DESC LIMIT 1;
            IF NOT FOUND THEN
                SELECT NULL::integer AS approval_id, 0 AS reads, 0 AS plates INTO extra;
            END IF;
        END IF;
        over := CASE
            WHEN day_totals.plates > (budget ->> 'plates_per_day')::int + coalesce(extra.plates, 0)
                THEN format('daily budget of %s distinct plates (%s given to you today)',
                            (budget ->> 'plates_per_day')::int + coalesce(extra.plates, 0), day_totals.plates - spent.day_plates)
            WHEN day_totals.reads > (budget ->> 'reads_per_day')::int + coalesce(extra.reads, 0)
                THEN format('daily budget of %s distinct reads (%s given to you today)',
                            (budget ->> 'reads_per_day')::int + coalesce(extra.reads, 0), day_totals.reads - spent.day_reads)
            WHEN case_totals.plates > (budget ->> 'plates_per_case')::int + coalesce(extra.plates, 0)
                THEN format('budget of %s distinct plates under case %s (%s given to you)',
                            (budget ->> 'plates_per_case')::int + coalesce(extra.plates, 0), session.case_number,
                            case_totals.plates - spent.case_plates)
            WHEN case_totals.reads > (budget ->> 'reads_per_case')::int + coalesce(extra.reads, 0)
                THEN format('budget of %s distinct reads under case %s (%s given to you)',
                            (budget ->> 'reads_per_case')::int + coalesce(extra.reads, 0), session.case_number,
                            case_totals.reads - spent.case_reads)
        END;
        IF over IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'WB001', MESSAGE = over;  -- undoes the charge above
        END IF;
    EXCEPTION WHEN SQLSTATE 'WB001' THEN
        refusal := format('this query would take you past your %s. Narrow it (a shorter window, a smaller area, '
                          'more known characters), or ask a supervisor for a budget approval under this case '
                          '(request_scope_approval(''budget'', ...))', SQLERRM);
        flags := ARRAY['harvesting'];
        scope := jsonb_build_object('budget', 'reached');
        RETURN;
    END;
    scope := jsonb_build_object('new_reads', spent.day_reads, 'new_plates', spent.day_plates,
                                'reads_today', day_totals.reads, 'plates_today', day_totals.plates);
    IF extra.approval_id IS NOT NULL THEN
        scope := scope || jsonb_build_object('budget_approval_id', extra.approval_id);
    END IF;
    IF NOT day_totals.harvest_flagged AND spent.day_plates > 0
       AND day_totals.plates >= (budget ->> 'harvest_min_plates')::int THEN
        SELECT avg(t.plates) INTO usual FROM alpr.disclosure_totals t
        WHERE t.db_user = session_user AND t.scope = 'day'
          AND t.scope_key >= (today - 90)::text AND t.scope_key < today::text;
        IF day_totals.plates >= (budget ->> 'harvest_factor')::numeric * coalesce(usual, 0) THEN
            flags := ARRAY['harvesting'];
            scope := scope || jsonb_build_object('usual_plates_per_day', round(coalesce(usual, 0), 1));
            UPDATE alpr.disclosure_totals SET harvest_flagged = true
            WHERE db_user = session_user AND scope = 'day' AND scope_key = today::text;
        END IF;
    END IF;
END
$$;

-- Audits a granted call and parks its answer (rows, count, warnings; a cap when the profile's row limit cut
-- it) until that audit row has committed. Results of reads are charged to the login's budget first.
-- A supervisor's review runs under no case session: it passes NULL and is not charged.
CREATE OR REPLACE FUNCTION alpr.deliver(session alpr.access_sessions, p_function text, p_kind text,
                                        p_payload jsonb, p_rows integer, p_parameters jsonb, p_scope jsonb,
                                        p_warnings text[] DEFAULT '{}', p_flags text[] DEFAULT '{}',
                                        p_read_ids bigint[] DEFAULT NULL, p_plates text[] DEFAULT NULL,
                                        p_capped jsonb DEFAULT NULL)
RETURNS api.call_result
LANGUAGE plpgsql AS $$
DECLARE
    charged record;
    scope jsonb := coalesce(p_scope, '{}');
    flags text[] := coalesce(p_flags, '{}');
BEGIN
    IF session.access_id IS NOT NULL AND p_read_ids IS NOT NULL THEN
        charged := alpr.spend_budget(session, p_read_ids, coalesce(p_plates, '{}'));
        IF charged.refusal IS NOT NULL THEN
            RETURN alpr.refuse_deferred(session, p_function, 'budget_reached', charged.refusal, p_parameters,
                                        charged.flags, scope || charged.scope);
        END IF;
        scope := scope || charged.scope;
        flags := flags || charged.flags;
    END IF;
    IF p_capped IS NOT NULL THEN
        scope := scope || jsonb_build_object('capped', p_capped);
    END IF;
    RETURN alpr.park(session,
        alpr.write_audit(p_function, 'granted', NULL, session.access_id, session.case_number, session.purpose,
                         session.justification, p_parameters, scope, p_rows, flags, '{}'),
        p_kind, 'granted', NULL, NULL, p_payload, p_rows, p_warnings, p_capped);
END
$$;

-- Audits a granted call that changes something; its message and values are parked like rows.
CREATE OR REPLACE FUNCTION alpr.acknowledge(session alpr.access_sessions, p_function text, p_parameters jsonb,
                                            p_message text, p_values jsonb DEFAULT '{}')
RETURNS api.call_result
LANGUAGE plpgsql AS $$
BEGIN
    RETURN alpr.park(session,
        alpr.write_audit(p_function, 'granted', NULL, session.access_id, session.case_number, session.purpose,
                         session.justification, p_parameters, '{}', 0, '{}', '{}'),
        'acknowledgement', 'granted', NULL, p_message, coalesce(p_values, '{}'), 0, '{}');
END
$$;

-- The only way out for an answer: once the transaction that audited it has committed, to the login that
-- asked, while its access session lasts. A caller who rolls back (or fails the statement) after a query
-- learns nothing from it. A fetch refused for another reason is itself audited.
CREATE OR REPLACE FUNCTION api.fetch_result(p_result_id uuid) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    parked alpr.result_sets;
    who alpr.users;
    code text;
    message text;
    flags text[] := '{}';
    audit_id bigint;
BEGIN
    SELECT * INTO parked FROM alpr.result_sets WHERE result_id = p_result_id;
    IF parked.result_id IS NOT NULL AND parked.db_user = session_user
       AND pg_xact_status(parked.created_xid) IS DISTINCT FROM 'committed' THEN
        RAISE EXCEPTION 'result % is not available until the query that produced it has committed', p_result_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'run the query in autocommit mode, then fetch';
    END IF;
    SELECT * INTO who FROM alpr.users WHERE login = session_user;
    IF parked.result_id IS NULL THEN
        code := 'unknown_result';
        message := format('no result %s', p_result_id);
    ELSIF parked.db_user <> session_user THEN
        code := 'access_not_yours';
        message := format('no result %s for this login', p_result_id);
        flags := ARRAY['foreign_access_id'];
    ELSIF who.active IS NOT TRUE THEN
        code := 'account_deactivated';
        message := 'this account is deactivated; the attempt has been recorded and referred to Professional Standards';
        flags := ARRAY['professional_standards_review'];
    -- Results of a case session expire with it; a supervisor's review (no session) within an hour.
    ELSIF (parked.access_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM alpr.access_sessions WHERE access_id = parked.access_id AND expires_at > now()))
          OR (parked.access_id IS NULL AND parked.created_at < now() - interval '1 hour') THEN
        code := 'access_expired';
        message := format('the access session of result %s has expired; open the case again', p_result_id);
    END IF;
    IF code IS NOT NULL THEN
        audit_id := alpr.write_audit('fetch_result', 'denied', code, NULL, NULL, NULL, NULL,
                                     jsonb_build_object('result_id', p_result_id), '{}', 0, flags, '{}');
        RETURN jsonb_build_object('outcome', 'denied', 'reason_code', code, 'message', message, 'audit_id', audit_id);
    END IF;
    RETURN jsonb_build_object('outcome', parked.outcome, 'reason_code', parked.reason_code, 'message', parked.message,
                              'audit_id', parked.audit_id, 'row_count', parked.row_count,
                              'warnings', to_jsonb(parked.warnings), 'capped', parked.capped, 'kind', parked.kind,
                              'payload', parked.payload);
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
        'budget', p -> 'access' -> 'budget',
        'training', p -> 'training', 'sharing', p -> 'sharing')
    FROM alpr.policy_profile, LATERAL (SELECT profile AS p) x
$$;
