-- The audit log: append-only, hash-chained. Only alpr.write_audit inserts; a trigger refuses change.
SET LOCAL ROLE alpr_owner;

CREATE TABLE alpr.audit_log (
    audit_id       bigint PRIMARY KEY,
    logged_at      timestamptz NOT NULL,
    db_user        text NOT NULL,
    username       text,
    user_role      text,
    access_id      uuid,
    case_number    text,
    purpose        text,
    justification  text,
    function_name  text NOT NULL,
    parameters     jsonb NOT NULL DEFAULT '{}',
    scope          jsonb NOT NULL DEFAULT '{}',
    rows_returned  integer NOT NULL DEFAULT 0,
    outcome        text NOT NULL CHECK (outcome IN ('granted', 'denied', 'error')),
    reason         text,
    flags          text[] NOT NULL DEFAULT '{}',
    client         jsonb NOT NULL DEFAULT '{}',
    prev_hash      bytea NOT NULL,
    row_hash       bytea NOT NULL
);
CREATE INDEX audit_time ON alpr.audit_log (logged_at);
CREATE INDEX audit_user_time ON alpr.audit_log (db_user, logged_at);
CREATE INDEX audit_case ON alpr.audit_log (case_number);

-- One row holding the chain's tip. Writers lock it, so ids and hashes follow commit order exactly.
CREATE TABLE alpr.audit_chain_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_id    bigint NOT NULL,
    last_hash  bytea NOT NULL
);
INSERT INTO alpr.audit_chain_head VALUES (true, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION alpr.refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON alpr.audit_log
    FOR EACH ROW EXECUTE FUNCTION alpr.refuse_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON alpr.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION alpr.refuse_audit_change();
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON alpr.audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION alpr.refuse_audit_change();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON alpr.audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION alpr.refuse_audit_change();

-- Supervisors sign off review items; the sign-off is a record of its own (and audited).
CREATE TABLE alpr.review_signoffs (
    signoff_id  bigserial PRIMARY KEY,
    audit_id    bigint NOT NULL REFERENCES alpr.audit_log,
    flag        text NOT NULL,
    finding     text NOT NULL,
    signed_by   text NOT NULL DEFAULT session_user,
    signed_at   timestamptz NOT NULL DEFAULT now()
);
