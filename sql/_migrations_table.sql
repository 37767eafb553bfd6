-- Bootstrap run before every migration pass: the record of applied migrations (superuser only).
CREATE SCHEMA IF NOT EXISTS workbench_meta;
REVOKE ALL ON SCHEMA workbench_meta FROM PUBLIC;
CREATE TABLE IF NOT EXISTS workbench_meta.migrations (
    name        text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('versioned', 'repeatable')),
    sha256      text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
