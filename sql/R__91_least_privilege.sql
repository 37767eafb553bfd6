-- Least privilege beyond the schemas: what PostgreSQL grants PUBLIC by default and a data user could turn
-- into a leak or a lever. Large objects (storage outside every table), live row counts and sizes of the
-- audit and read tables (statistics views and size functions; the planner's row estimates in pg_class),
-- advisory locks (keys anyone can take), and databases of the server other than this one.
-- Changing pg_catalog objects needs a superuser: another migrating login skips this with a warning, and
-- `workbench doctor` reports it.
DO $$
DECLARE
    target record;
    visible_columns text;
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RAISE WARNING 'least privilege on pg_catalog needs a superuser migration; skipped (see workbench doctor)';
        RETURN;
    END IF;
    FOR target IN
        SELECT p.oid::regprocedure AS fn FROM pg_proc p
        WHERE p.pronamespace = 'pg_catalog'::regnamespace
          AND (p.proname IN ('lo_creat', 'lo_create', 'lo_from_bytea', 'lo_import', 'lo_export', 'lo_put',
                             'pg_relation_size', 'pg_total_relation_size', 'pg_table_size', 'pg_indexes_size',
                             'pg_database_size', 'pg_tablespace_size', 'pg_partition_tree', 'pg_partition_ancestors')
               OR p.proname LIKE 'pg\_advisory%' OR p.proname LIKE 'pg\_try\_advisory%'
               -- per-table and per-function statistics (live and dead rows, scans, inserts)
               OR (p.proname LIKE 'pg\_stat\_get\_%' AND p.pronargs = 1 AND p.proargtypes[0] = 'oid'::regtype))
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', target.fn);
    END LOOP;
    FOR target IN
        SELECT c.oid::regclass AS view FROM pg_class c
        WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'v'
          AND (c.relname LIKE 'pg\_stat\_%tables' OR c.relname LIKE 'pg\_statio\_%' OR c.relname LIKE 'pg\_stat\_%indexes'
               OR c.relname LIKE 'pg\_stat\_%functions')
    LOOP
        EXECUTE format('REVOKE SELECT ON %s FROM PUBLIC', target.view);
    END LOOP;
    -- pg_class stays readable (clients need it) except the planner's size estimates of every table.
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO visible_columns
    FROM pg_attribute WHERE attrelid = 'pg_catalog.pg_class'::regclass AND attnum > 0 AND NOT attisdropped
      AND attname NOT IN ('reltuples', 'relpages', 'relallvisible');
    REVOKE SELECT ON pg_catalog.pg_class FROM PUBLIC;
    EXECUTE format('GRANT SELECT (%s) ON pg_catalog.pg_class TO PUBLIC', visible_columns);
    -- The workbench's own internals that read what was revoked run as the owner.
    GRANT EXECUTE ON FUNCTION pg_catalog.pg_relation_size(regclass), pg_catalog.pg_total_relation_size(regclass)
        TO alpr_owner;
    GRANT SELECT ON pg_catalog.pg_class TO alpr_owner;
    -- No login connects to, or makes temporary tables in, a database of this server by default: each
    -- workbench database grants CONNECT to the logins registered in it (api.admin_create_user, the sample).
    FOR target IN SELECT datname FROM pg_database WHERE datname <> 'template0' LOOP
        EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', target.datname);
    END LOOP;
    -- The owner grants CONNECT to each login it creates (api.admin_create_user).
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO alpr_owner WITH GRANT OPTION', current_database());
    EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM workbench_user, workbench_supervisor, workbench_administrator, '
                   'workbench_trainer', current_database());
    FOR target IN SELECT u.login FROM alpr.users u JOIN pg_roles r ON r.rolname = u.login LOOP
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), target.login);
    END LOOP;
END
$$;
