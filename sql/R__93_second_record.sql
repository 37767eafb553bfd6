-- The second record: every statement of this database's sessions is in the server log before it runs (a
-- rollback removes nothing from it), and pgAudit classes the role and schema changes tried. Log intake and file retention use
-- adminpack's unlink. Needs a superuser migration and pgaudit in shared_preload_libraries (the private
-- cluster sets both); elsewhere this warns and `workbench doctor` reports it.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RAISE WARNING 'pgAudit and the watch need a superuser migration; skipped (see workbench doctor)';
        RETURN;
    END IF;
    -- The chainer reads when other logins' transactions began (pg_stat_activity).
    GRANT pg_read_all_stats TO alpr_owner;
    IF current_setting('shared_preload_libraries') NOT LIKE '%pgaudit%' THEN
        RAISE WARNING 'pgaudit is not in shared_preload_libraries: no second record of statements (see workbench doctor)';
        RETURN;
    END IF;
    CREATE EXTENSION IF NOT EXISTS pgaudit;
    CREATE EXTENSION IF NOT EXISTS adminpack;
    -- Every statement a session sends, once, before it runs (the server's own statement log), and pgAudit's
    -- classed record of role and schema changes tried. pgAudit's read and function classes would also log
    -- every statement the guard's functions run inside (measured: 60 lines, 26 KB of log per audited call,
    -- against 3.7 KB this way); the top-level statement is what says what a login asked.
    EXECUTE format('ALTER DATABASE %I SET log_statement = %L', current_database(), 'all');
    EXECUTE format('ALTER DATABASE %I SET pgaudit.log = %L', current_database(), 'role, ddl');
    EXECUTE format('ALTER DATABASE %I SET pgaudit.log_parameter = off', current_database());
    EXECUTE format('ALTER DATABASE %I SET pgaudit.log_catalog = off', current_database());
    -- The superuser's own maintenance (loads, migrations, the watch reading this very log) in schema and role
    -- changes only: the second record is of the people who log in.
    EXECUTE format('ALTER ROLE %I IN DATABASE %I SET log_statement = %L', current_user, current_database(), 'ddl');
    EXECUTE format('ALTER ROLE %I IN DATABASE %I SET pgaudit.log = %L', current_user, current_database(), 'ddl, role');
    -- Log lines from before this database existed (a dropped namesake's) are not its to take in.
    INSERT INTO alpr.server_log_files (file_name, read_to)
    SELECT name, size FROM pg_ls_logdir() WHERE name LIKE '%.json'
    ON CONFLICT (file_name) DO NOTHING;
END
$$;
