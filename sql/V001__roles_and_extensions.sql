-- Extensions, the owner role, the group roles people's logins join, and the two schemas.
-- Roles are cluster-wide; creating them is idempotent so several databases can share a cluster.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;
CREATE EXTENSION IF NOT EXISTS btree_gist;

DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['alpr_owner', 'workbench_user', 'workbench_supervisor',
                                     'workbench_administrator', 'workbench_trainer'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
        END IF;
    END LOOP;
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %I TO alpr_owner', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO workbench_user, workbench_supervisor, '
                   'workbench_administrator, workbench_trainer', current_database());
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS alpr AUTHORIZATION alpr_owner;
CREATE SCHEMA IF NOT EXISTS api AUTHORIZATION alpr_owner;
REVOKE ALL ON SCHEMA alpr FROM PUBLIC;
REVOKE ALL ON SCHEMA api FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO workbench_user, workbench_supervisor, workbench_administrator, workbench_trainer;
-- Functions are executable by PUBLIC by default; here nothing is until granted by name.
ALTER DEFAULT PRIVILEGES FOR ROLE alpr_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The owner creates people's logins through api.admin_create_user (administrators only).
ALTER ROLE alpr_owner CREATEROLE;
