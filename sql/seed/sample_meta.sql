-- What sample data this database holds, so a second load changes nothing.
CREATE TABLE IF NOT EXISTS workbench_meta.sample_load (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seed       integer NOT NULL,
    reads      bigint NOT NULL,
    end_date   timestamptz NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now()
);
