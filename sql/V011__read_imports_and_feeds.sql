-- An agency's own reads: its sources (fixed cameras, mobile units, commercial and shared feeds), file imports
-- staged and then validated, de-duplicated and stored by one audited function, a live feed authenticated per
-- source, and the transfer each source and camera last made (Downey 7.14.04: at most 30 days between them).
SET LOCAL ROLE alpr_owner;

-- A feeder login writes reads through the import and feed functions and reads nothing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'workbench_feeder') THEN
        CREATE ROLE workbench_feeder NOLOGIN;
    END IF;
    EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM workbench_feeder', current_database());
END $$;
GRANT USAGE ON SCHEMA api TO workbench_feeder;
ALTER TABLE alpr.users DROP CONSTRAINT users_role_check;
ALTER TABLE alpr.users ADD CONSTRAINT users_role_check
    CHECK (role IN ('data_user', 'administrator', 'supervisor', 'trainer', 'feeder'));

CREATE TABLE alpr.read_sources (
    source_id          serial PRIMARY KEY,
    name               text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_-]{1,62}$'),
    kind               text NOT NULL CHECK (kind IN ('fixed', 'mobile', 'commercial', 'shared')),
    -- a live feed's bearer token, kept only as its sha256
    token_sha256       text UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    -- reads naming a camera this source has not registered are refused (otherwise registered on first read)
    cameras_registered boolean NOT NULL DEFAULT true,
    created_by         text NOT NULL DEFAULT session_user,
    created_at         timestamptz NOT NULL DEFAULT now(),
    last_transfer_at   timestamptz,
    active             boolean NOT NULL DEFAULT true
);

-- One file, or one feed batch, brought in: counts, the file's hash, who and when.
CREATE TABLE alpr.read_imports (
    import_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    source_id      integer NOT NULL REFERENCES alpr.read_sources,
    channel        text NOT NULL CHECK (channel IN ('file', 'feed')),
    file_name      text,
    file_sha256    text,
    format         text NOT NULL,
    staging_table  text,
    started_by     text NOT NULL DEFAULT session_user,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    rows_in        integer,
    accepted       integer,
    rejected       integer,
    duplicates     integer,
    hits           integer,
    audit_id       bigint,
    abandoned_at   timestamptz,
    abandon_reason text
);
CREATE INDEX read_imports_source_time ON alpr.read_imports (source_id, started_at DESC);

-- Rows the validation refused, each with its reason and the row as it came, so nothing is lost.
CREATE TABLE alpr.import_rejects (
    import_id  uuid NOT NULL REFERENCES alpr.read_imports ON DELETE CASCADE,
    line_no    integer NOT NULL,
    reason     text NOT NULL,
    row_data   jsonb NOT NULL,
    PRIMARY KEY (import_id, line_no)
);

-- What each source has delivered, by the vendor's read id (or a content key when it gives none), as a uuid
-- (md5 of the key): an import or feed batch sent twice, or overlapping exports, add nothing twice.
CREATE TABLE alpr.read_keys (
    source_id  integer NOT NULL,
    read_key   uuid NOT NULL,
    read_id    bigint NOT NULL,
    PRIMARY KEY (source_id, read_key)
);
CREATE INDEX read_keys_read ON alpr.read_keys (read_id);  -- retention removes a purged read's key with it

ALTER TABLE alpr.reads ADD COLUMN source_id integer, ADD COLUMN heading_deg real, ADD COLUMN vendor_read_id text;

-- Cameras a source registered (its camera ids as its exports name them) and when each last delivered.
ALTER TABLE alpr.cameras ADD COLUMN source_id integer REFERENCES alpr.read_sources,
                         ADD COLUMN last_transfer_at timestamptz;

-- Staged import files: one table per import, made by api.begin_import, writable by its starter alone, dropped
-- when the import is stored.
CREATE SCHEMA IF NOT EXISTS staging AUTHORIZATION alpr_owner;
REVOKE ALL ON SCHEMA staging FROM PUBLIC;
GRANT USAGE ON SCHEMA staging TO workbench_feeder, workbench_administrator;

INSERT INTO alpr.job_locks VALUES ('import') ON CONFLICT DO NOTHING;
