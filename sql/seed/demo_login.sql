-- A demo person's login (the password is for the demo only and printed in the README).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(login)s) THEN
        EXECUTE format('CREATE ROLE %%I LOGIN', %(login)s);
    END IF;
    EXECUTE format('ALTER ROLE %%I LOGIN PASSWORD %%L', %(login)s, %(password)s);
    EXECUTE format('GRANT %%I TO %%I', %(group_role)s, %(login)s);
    EXECUTE format('GRANT CONNECT ON DATABASE %%I TO %%I', current_database(), %(login)s);
END
$$;
INSERT INTO alpr.users (login, full_name, role, active, supervisor_authorization, authorized_by, authorized_at,
                        deactivated_at, deactivation_reason, last_data_access_at)
VALUES (%(login)s, %(full_name)s, %(role)s, %(active)s, %(authorization)s, %(authorized_by)s,
        CASE WHEN %(authorization)s::text IS NULL THEN NULL ELSE now() - interval '200 days' END,
        CASE WHEN %(active)s THEN NULL ELSE now() - interval '10 days' END,
        CASE WHEN %(active)s THEN NULL ELSE 'separated from the department' END, NULL)
ON CONFLICT (login) DO NOTHING;
INSERT INTO alpr.training_records (user_id, course, kind, version, score, passed, completed_at, trainer, recorded_by)
SELECT user_id, %(course)s, 'initial', '2026.1', 0.95, true, now() - make_interval(days => %(trained_days_ago)s),
       'Trainer Tran', 'setup'
FROM alpr.users
WHERE login = %(login)s AND %(trained_days_ago)s::int IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM alpr.training_records t JOIN alpr.users u USING (user_id) WHERE u.login = %(login)s);
