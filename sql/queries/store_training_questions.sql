-- The profile's quiz (workbench/training.py builds it): replaces the bank in one statement.
WITH cleared AS (DELETE FROM alpr.training_questions RETURNING 1)
INSERT INTO alpr.training_questions (question_no, topic, question, choices, answer, explanation, version, section)
SELECT (q ->> 'number')::int, q ->> 'topic', q ->> 'question', q -> 'choices', (q ->> 'answer')::int,
       q ->> 'explanation', %(version)s, q ->> 'section'
FROM jsonb_array_elements(%(questions)s::jsonb) q, (SELECT count(*) FROM cleared) c
