-- The policy quiz, graded by the database: trainees see questions and choices, never the answers; a pass
-- writes the training record the access guard checks. Every submission is audited.
SET LOCAL ROLE alpr_owner;

CREATE OR REPLACE FUNCTION api.training_quiz()
RETURNS TABLE (question_no integer, topic text, question text, choices jsonb, version text, pass_mark numeric,
               course text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT q.question_no, q.topic, q.question, q.choices, q.version,
           (alpr.policy() -> 'training' ->> 'pass_mark')::numeric, alpr.policy() -> 'training' ->> 'course'
    FROM alpr.training_questions q
    WHERE EXISTS (SELECT 1 FROM alpr.users u WHERE u.login = session_user)
    ORDER BY q.question_no
$$;

-- p_answers: {"1": 2, "2": 0, ...} (question number -> chosen index). Returns the score, pass or not, and
-- each question's right answer and explanation.
CREATE OR REPLACE FUNCTION api.submit_training(p_kind text, p_answers jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    policy jsonb := alpr.policy();
    pass_mark numeric := (policy -> 'training' ->> 'pass_mark')::numeric;
    params jsonb := jsonb_build_object('kind', alpr.clip(p_kind, 40));
    who alpr.users;
    total integer;
    right_count integer;
    score numeric;
    passed boolean;
    quiz_version text;
    review jsonb;
    problem text;
BEGIN
    who := alpr.require_role(ARRAY['data_user', 'administrator', 'supervisor', 'trainer'], 'submit_training', params);
    IF who IS NULL THEN
        RETURN jsonb_build_object('outcome', 'denied', 'message', 'no active workbench account for this login');
    END IF;
    SELECT count(*), max(version) INTO total, quiz_version FROM alpr.training_questions;
    problem := CASE
        WHEN p_kind IS NULL OR p_kind NOT IN ('initial', 'refresher', 'reorientation')
            THEN 'kind must be initial, refresher or reorientation'
        WHEN total = 0 THEN 'no quiz is loaded for this profile; ask an administrator'
        WHEN p_answers IS NULL OR jsonb_typeof(p_answers) <> 'object'
            THEN 'answers must be {"question number": choice index}' END;
    IF problem IS NOT NULL THEN  -- refused, and the refusal audited, the same way for each reason
        PERFORM alpr.admin_result('submit_training', params, false, problem);
        RETURN jsonb_build_object('outcome', 'denied', 'message', problem);
    END IF;
    SELECT count(*) FILTER (WHERE CASE WHEN (p_answers ->> q.question_no::text) ~ '^[0-9]{1,3}$'
                                       THEN (p_answers ->> q.question_no::text)::int END = q.answer),
           jsonb_agg(jsonb_build_object(
               'question_no', q.question_no, 'question', q.question,
               'given', p_answers -> q.question_no::text, 'answer', q.answer, 'right_choice', q.choices -> q.answer,
               'correct', coalesce((p_answers ->> q.question_no::text) = q.answer::text, false),
               'explanation', q.explanation) ORDER BY q.question_no)
      INTO right_count, review FROM alpr.training_questions q;
    score := round(right_count::numeric / total, 4);
    passed := score >= pass_mark;
    INSERT INTO alpr.training_attempts (user_id, kind, version, answers, score, passed)
    VALUES (who.user_id, p_kind, quiz_version, p_answers, score, passed);
    IF passed THEN
        INSERT INTO alpr.training_records (user_id, course, kind, version, score, passed, trainer)
        VALUES (who.user_id, policy -> 'training' ->> 'course', p_kind, quiz_version, score, true,
                'policy quiz (graded by the database)');
    END IF;
    PERFORM alpr.write_audit('submit_training', 'granted', NULL, NULL, NULL, NULL, NULL,
                             params || jsonb_build_object('score', score, 'passed', passed, 'version', quiz_version),
                             '{}', 0, '{}', '{}');
    RETURN jsonb_build_object('outcome', 'granted', 'score', score, 'passed', passed, 'pass_mark', pass_mark,
                              'version', quiz_version, 'kind', p_kind, 'review', review,
                              'message', CASE WHEN passed THEN 'passed: your training record is written'
                                              ELSE format('%s%% is below the pass mark of %s%%; review the explanations and retake it',
                                                          round(score * 100), round(pass_mark * 100)) END);
END
$$;

GRANT EXECUTE ON FUNCTION api.training_quiz(), api.submit_training(text, jsonb)
    TO workbench_user, workbench_supervisor, workbench_administrator, workbench_trainer;
