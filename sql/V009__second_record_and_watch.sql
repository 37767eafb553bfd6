-- What the server log says, taken in by the watch (alpr.ingest_server_log): pgAudit's record of every
-- statement (committed or not), failed logins, errors of workbench logins. The log files are the second
-- record no rollback removes; this table makes it searchable for the supervisors.
SET LOCAL ROLE alpr_owner;

CREATE TABLE alpr.server_log_files (
    file_name  text PRIMARY KEY,
    read_to    bigint NOT NULL DEFAULT 0,
    seen_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alpr.server_log_events (
    event_id     bigserial PRIMARY KEY,
    logged_at    timestamptz NOT NULL,
    db_user      text,
    session_id   text,
    kind         text NOT NULL CHECK (kind IN ('statement', 'login_failed', 'error')),
    class        text,
    command      text,
    statement    text,
    detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX server_log_events_time ON alpr.server_log_events (logged_at);
CREATE INDEX server_log_events_user_time ON alpr.server_log_events (db_user, logged_at);

-- Where this deployment writes checkpoints of the audit chain's head (outside the database), and when last.
CREATE TABLE alpr.deployment (
    singleton           boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    checkpoint_dir      text,
    last_checkpoint_at  timestamptz
);
INSERT INTO alpr.deployment DEFAULT VALUES;
INSERT INTO alpr.job_locks VALUES ('watch');
