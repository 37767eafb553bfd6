-- The policy quiz, graded by the database. An attempt is started by the database, which shuffles the
-- questions and each question's choices for that attempt and keeps the order it showed; the trainee
-- submits positions, never learns the right answers (the score and the sections to reread only), has a
-- limited number of attempts a day with a wait after a failure, and repeated failures reach the trainer.
-- A pass writes the training record the access guard checks. Every start and submission is audited.
SET LOCAL ROLE alpr_owner;

DROP FUNCTION IF EXISTS api.training_quiz();
DROP FUNCTION IF EXISTS api.submit_training(text, jsonb);

-- A refusal as the quiz functions answer (jsonb, like their other answers), its audit record kept.
CREATE OR REPLACE FUNCTION alpr.refusal_json(p_refusal api.call_result) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('outcome', 'denied', 'reason_code', p_refusal.reason_code, 'message', p_refusal.message,
                              'audit_id', p_refusal.audit_id)
$$;

-- Failed submissions of a user in the 30 days before now.
CREATE OR REPLACE FUNCTION alpr.training_failures(p_user_id integer) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT count(*)::integer FROM alpr.training_attempts
    WHERE user_id = p_user_id AND submitted_at > now() - interval '30 days' AND passed IS FALSE
$$;

-- Why the user may not start an attempt now (NULL when they may).
CREATE OR REPLACE FUNCTION alpr.training_attempt_refusal(who alpr.users) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    training jsonb := alpr.policy() -> 'training';
    zone text := coalesce(alpr.policy() -> 'agency' ->> 'time_zone', 'UTC');
    started_today integer;
    last_failure timestamptz;
    wait_until timestamptz;
BEGIN
    SELECT count(*) INTO started_today FROM alpr.training_attempts
    WHERE user_id = who.user_id AND (attempted_at AT TIME ZONE zone)::date = (now() AT TIME ZONE zone)::date;
    IF started_today >= (training ->> 'attempts_per_day')::int THEN
        RETURN format('you have used the %s attempts of today; try again tomorrow, or ask a trainer',
                      training ->> 'attempts_per_day');
    END IF;
    SELECT max(submitted_at) INTO last_failure FROM alpr.training_attempts
    WHERE user_id = who.user_id AND passed IS FALSE;
    wait_until := last_failure + make_interval(mins => (training ->> 'cooldown_minutes')::int);
    IF wait_until > now() THEN
        RETURN format('after a failed attempt the next one opens at %s (%s minutes); reread the sections it named',
                      to_char(wait_until AT TIME ZONE zone, 'HH24:MI'), training ->> 'cooldown_minutes');
    END IF;
    RETURN NULL;
END
$$;

-- Starts an attempt: {outcome, attempt_id, questions: [{position, topic, question, choices}], ...}.
CREATE OR REPLACE FUNCTION api.start_training(p_kind text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    policy jsonb := alpr.policy();
    params jsonb := jsonb_build_object('kind', alpr.clip(p_kind, 40));
    gate record;
    problem text;
    presented jsonb;
    quiz_version text;
    new_attempt bigint;
    audit_id bigint;
BEGIN
    gate := alpr.role_check(ARRAY['data_user', 'administrator', 'supervisor', 'trainer'], 'start_training', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN alpr.refusal_json(gate.refusal); END IF;
    SELECT max(version) INTO quiz_version FROM alpr.training_questions;
    problem := CASE
        WHEN p_kind IS NULL OR p_kind NOT IN ('initial', 'refresher', 'reorientation')
            THEN 'kind must be initial, refresher or reorientation'
        WHEN quiz_version IS NULL THEN 'no quiz is loaded for this profile; ask an administrator'
        ELSE alpr.training_attempt_refusal(gate.who) END;
    IF problem IS NOT NULL THEN
        audit_id := alpr.write_audit('start_training', 'denied', 'training_refused', NULL, NULL, NULL, NULL, params,
                                     '{}', 0, '{}', '{}');
        RETURN jsonb_build_object('outcome', 'denied', 'reason_code', 'training_refused', 'message', problem,
                                  'audit_id', audit_id);
    END IF;
    -- This attempt's order: questions shuffled, each question's choices shuffled (random(), not seeded).
    SELECT jsonb_agg(jsonb_build_object('question_no', q.question_no, 'order', q.choice_order) ORDER BY q.position)
      INTO presented
    FROM (SELECT question_no, row_number() OVER (ORDER BY random()) AS position,
                 (SELECT jsonb_agg(i ORDER BY random())
                  FROM generate_series(0, jsonb_array_length(choices) - 1) i) AS choice_order
          FROM alpr.training_questions) q;
    INSERT INTO alpr.training_attempts (user_id, kind, version, presented)
    VALUES ((gate.who).user_id, p_kind, quiz_version, presented) RETURNING attempt_id INTO new_attempt;
    audit_id := alpr.write_audit('start_training', 'granted', NULL, NULL, NULL, NULL, NULL,
                                 params || jsonb_build_object('attempt_id', new_attempt), '{}', 0, '{}', '{}');
    RETURN jsonb_build_object(
        'outcome', 'granted', 'attempt_id', new_attempt, 'audit_id', audit_id, 'kind', p_kind, 'version', quiz_version,
        'course', policy -> 'training' ->> 'course', 'pass_mark', (policy -> 'training' ->> 'pass_mark')::numeric,
        'questions', (SELECT jsonb_agg(jsonb_build_object(
                                 'position', p.position, 'topic', q.topic, 'question', q.question,
                                 'choices', (SELECT jsonb_agg(q.choices -> (o.value)::int ORDER BY o.ordinality)
                                             FROM jsonb_array_elements_text(p.item -> 'order') WITH ORDINALITY o))
                             ORDER BY p.position)
                      FROM jsonb_array_elements(presented) WITH ORDINALITY AS p(item, position)
                      JOIN alpr.training_questions q ON q.question_no = (p.item ->> 'question_no')::int));
END
$$;

-- p_answers: {"1": 2, "2": 0, ...} (position in the attempt -> chosen position among its choices).
-- Returns the score, pass or not, and the policy sections of the questions missed; never the answers.
CREATE OR REPLACE FUNCTION api.submit_training(p_attempt_id bigint, p_answers jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    policy jsonb := alpr.policy();
    pass_mark numeric := (policy -> 'training' ->> 'pass_mark')::numeric;
    params jsonb := jsonb_build_object('attempt_id', p_attempt_id);
    gate record;
    attempt alpr.training_attempts;
    total integer;
    right_count integer;
    missed jsonb;
    attempt_score numeric;
    attempt_passed boolean;
    problem text;
    failures integer;
    flags text[] := '{}';
    audit_id bigint;
BEGIN
    gate := alpr.role_check(ARRAY['data_user', 'administrator', 'supervisor', 'trainer'], 'submit_training', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN alpr.refusal_json(gate.refusal); END IF;
    SELECT * INTO attempt FROM alpr.training_attempts
    WHERE attempt_id = p_attempt_id AND user_id = (gate.who).user_id FOR UPDATE;
    problem := CASE
        WHEN attempt.attempt_id IS NULL THEN format('no quiz attempt %s of yours; start one (start_training)', p_attempt_id)
        WHEN attempt.submitted_at IS NOT NULL THEN format('attempt %s was already submitted; start a new one', p_attempt_id)
        WHEN attempt.presented IS NULL THEN format('attempt %s cannot be graded; start a new one', p_attempt_id)
        WHEN attempt.attempted_at < now() - interval '2 hours' THEN format('attempt %s is over two hours old; start a new one', p_attempt_id)
        WHEN attempt.version IS DISTINCT FROM (SELECT max(version) FROM alpr.training_questions)
            THEN 'the quiz changed with the profile since this attempt started; start a new one'
        WHEN p_answers IS NULL OR jsonb_typeof(p_answers) <> 'object'
            THEN 'answers must be {"question position": choice position}' END;
    IF problem IS NOT NULL THEN
        audit_id := alpr.write_audit('submit_training', 'denied', 'training_refused', NULL, NULL, NULL, NULL, params,
                                     '{}', 0, '{}', '{}');
        RETURN jsonb_build_object('outcome', 'denied', 'reason_code', 'training_refused', 'message', problem,
                                  'audit_id', audit_id);
    END IF;
    WITH shown AS (
        SELECT p.position, (p.item ->> 'question_no')::int AS question_no, p.item -> 'order' AS choice_order,
               CASE WHEN (p_answers ->> p.position::text) ~ '^[0-9]{1,3}$' THEN (p_answers ->> p.position::text)::int END AS given
        FROM jsonb_array_elements(attempt.presented) WITH ORDINALITY AS p(item, position)),
    graded AS (
        SELECT q.question_no, q.section, (s.choice_order ->> s.given)::int IS NOT DISTINCT FROM q.answer AS correct
        FROM shown s JOIN alpr.training_questions q USING (question_no))
    SELECT count(*), count(*) FILTER (WHERE correct),
           coalesce(jsonb_agg(DISTINCT section) FILTER (WHERE NOT correct), '[]')
      INTO total, right_count, missed FROM graded;
    attempt_score := round(right_count::numeric / total, 4);
    attempt_passed := attempt_score >= pass_mark;
    UPDATE alpr.training_attempts SET answers = p_answers, score = attempt_score, passed = attempt_passed, submitted_at = now()
    WHERE attempt_id = p_attempt_id;
    IF attempt_passed THEN
        INSERT INTO alpr.training_records (user_id, course, kind, version, score, passed, trainer)
        VALUES ((gate.who).user_id, policy -> 'training' ->> 'course', attempt.kind, attempt.version, attempt_score, true,
                'policy quiz (graded by the database)');
    ELSE
        failures := alpr.training_failures((gate.who).user_id);
        IF failures >= (policy -> 'training' ->> 'notify_trainer_after_failures')::int THEN
            flags := ARRAY['training_failures'];
        END IF;
    END IF;
    audit_id := alpr.write_audit('submit_training', 'granted', NULL, NULL, NULL, NULL, NULL,
                                 params || jsonb_build_object('score', attempt_score, 'passed', attempt_passed, 'version', attempt.version,
                                                              'failures_30_days', failures),
                                 '{}', 0, flags, '{}');
    RETURN jsonb_build_object(
        'outcome', 'granted', 'audit_id', audit_id, 'score', attempt_score, 'passed', attempt_passed, 'pass_mark', pass_mark,
        'version', attempt.version, 'kind', attempt.kind, 'review_sections', missed,
        'message', CASE WHEN attempt_passed THEN 'passed: your training record is written'
                        ELSE format('%s%% is below the pass mark of %s%%; reread the sections listed and try again after %s minutes',
                                    round(attempt_score * 100), round(pass_mark * 100), policy -> 'training' ->> 'cooldown_minutes') END);
END
$$;

-- For trainers (and supervisors): each user's training state and recent failed attempts, those who
-- reached the profile's failure count first. Holds no ALPR data; audited.
CREATE OR REPLACE FUNCTION api.training_overview()
RETURNS TABLE (login text, full_name text, role text, last_passed timestamptz, last_kind text,
               attempts_30_days bigint, failures_30_days integer, needs_trainer boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    threshold integer := (alpr.policy() -> 'training' ->> 'notify_trainer_after_failures')::int;
BEGIN
    gate := alpr.role_check(ARRAY['trainer', 'supervisor', 'administrator'], 'training_overview', '{}');
    IF (gate.refusal).outcome IS NOT NULL THEN
        RAISE EXCEPTION '%', (gate.refusal).message USING ERRCODE = 'insufficient_privilege',
            HINT = format('refusal recorded as audit record %s', (gate.refusal).audit_id);
    END IF;
    PERFORM alpr.write_audit('training_overview', 'granted', NULL, NULL, NULL, NULL, NULL, '{}', '{}', 0, '{}', '{}');
    RETURN QUERY
        SELECT u.login, u.full_name, u.role, t.completed_at, t.kind,
               (SELECT count(*) FROM alpr.training_attempts a WHERE a.user_id = u.user_id
                  AND a.attempted_at > now() - interval '30 days'),
               alpr.training_failures(u.user_id), alpr.training_failures(u.user_id) >= threshold
        FROM alpr.users u
        LEFT JOIN LATERAL (SELECT completed_at, kind FROM alpr.training_records r
                           WHERE r.user_id = u.user_id AND r.passed ORDER BY completed_at DESC LIMIT 1) t ON true
        ORDER BY alpr.training_failures(u.user_id) >= threshold DESC, u.login;
END
$$;

REVOKE ALL ON FUNCTION alpr.refusal_json(api.call_result) FROM PUBLIC;
REVOKE ALL ON FUNCTION api.start_training(text), api.submit_training(bigint, jsonb), api.training_overview() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.start_training(text), api.submit_training(bigint, jsonb)
    TO workbench_user, workbench_supervisor, workbench_administrator, workbench_trainer;
GRANT EXECUTE ON FUNCTION api.training_overview() TO workbench_trainer, workbench_supervisor, workbench_administrator;
