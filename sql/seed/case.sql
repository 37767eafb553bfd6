INSERT INTO alpr.cases (case_number, title, offense_category, status, opened_at, closed_at)
VALUES (%(case_number)s, %(title)s, %(offense_category)s, %(status)s, now() - interval '60 days',
        CASE WHEN %(status)s = 'closed' THEN now() - interval '5 days' END)
ON CONFLICT (case_number) DO NOTHING;
INSERT INTO alpr.case_assignments (case_number, user_id)
SELECT %(case_number)s, user_id FROM alpr.users WHERE login = ANY (%(assigned)s)
ON CONFLICT DO NOTHING;
