-- Which sample city this database holds (no ALPR data: seed, size and the day it ends), so notebooks
-- and demos find the planted scenarios whatever day the sample was loaded.
SET LOCAL ROLE alpr_owner;

CREATE OR REPLACE FUNCTION api.sample_info() RETURNS TABLE (seed integer, reads bigint, end_date timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF to_regclass('workbench_meta.sample_load') IS NULL
       OR NOT has_table_privilege('workbench_meta.sample_load', 'SELECT') THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE 'SELECT seed, reads, end_date FROM workbench_meta.sample_load';
END
$$;

REVOKE ALL ON FUNCTION api.sample_info() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.sample_info()
TO workbench_user, workbench_supervisor, workbench_administrator, workbench_trainer;
