-- What `workbench doctor` reports of the limits in force (run as the admin login).
SELECT alpr.policy() -> 'access' -> 'limits' AS limits,
       current_setting('max_connections') AS max_connections,
       current_setting('shared_preload_libraries') AS preload,
       -- the database's own setting (the admin login's sessions log less: its maintenance)
       (SELECT split_part(setting, '=', 2) FROM pg_db_role_setting d, unnest(d.setconfig) setting
        WHERE d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND d.setrole = 0
          AND setting LIKE 'log_statement=%') AS log_statement,
       current_setting('auth_delay.milliseconds', true) AS auth_delay,
       (SELECT count(*) FROM alpr.users u JOIN pg_roles r ON r.rolname = u.login) AS logins,
       (SELECT count(*) FROM alpr.users u JOIN pg_roles r ON r.rolname = u.login
        WHERE r.rolconfig::text LIKE '%idle_in_transaction_session_timeout%') AS logins_limited,
       (SELECT count(*) FROM alpr.audit_log a WHERE NOT EXISTS (SELECT 1 FROM alpr.audit_chain c WHERE c.audit_id = a.audit_id)
          AND a.logged_at > now() - interval '1 day') AS pending,
       (SELECT checkpoint_dir IS NOT NULL FROM alpr.deployment) AS watch,
       alpr.transfer_overview() AS transfers
