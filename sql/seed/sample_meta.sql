-- What sample data this database holds, so a second load changes nothing.
CREATE TABLE IF NOT EXISTS workbench_meta.sample_load (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seed       integer NOT NULL,
    reads      bigint NOT NULL,
    end_date   timestamptz NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now()
);
-- The store owner reads it for api.sample_info (notebooks find the planted scenarios by its end date).
GRANT USAGE ON SCHEMA workbench_meta TO alpr_owner;
GRANT SELECT ON workbench_meta.sample_load TO alpr_owner;
