-- The audit chain no longer orders writers by a lock held until each caller commits (one open transaction
-- then stalled every other login's call). An audit row takes its id from a sequence and is written at once;
-- the chainer links committed rows in the order it finds them (alpr.chain_audit), so the chain is the order
-- of commit as seen by the chainer, each link in its own table, and no caller waits for another.
SET LOCAL ROLE alpr_owner;

CREATE SEQUENCE alpr.audit_id_seq;
SELECT setval('alpr.audit_id_seq', coalesce((SELECT max(audit_id) FROM alpr.audit_log), 1),
              (SELECT max(audit_id) IS NOT NULL FROM alpr.audit_log));

CREATE TABLE alpr.audit_chain (
    chain_seq   bigint PRIMARY KEY,
    audit_id    bigint NOT NULL UNIQUE REFERENCES alpr.audit_log,
    prev_hash   bytea NOT NULL,
    row_hash    bytea NOT NULL,
    chained_at  timestamptz NOT NULL DEFAULT now()
);
-- The chain so far becomes its first links, unchanged (same hashes, same order).
INSERT INTO alpr.audit_chain (chain_seq, audit_id, prev_hash, row_hash)
SELECT audit_id, audit_id, prev_hash, row_hash FROM alpr.audit_log ORDER BY audit_id;
ALTER TABLE alpr.audit_log DROP COLUMN prev_hash, DROP COLUMN row_hash;

CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON alpr.audit_chain
    FOR EACH ROW EXECUTE FUNCTION alpr.refuse_audit_change();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON alpr.audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION alpr.refuse_audit_change();

-- The head: the last link, and from when on committed rows may still be unlinked (rows of transactions that
-- were running at the chainer's last pass began after it).
ALTER TABLE alpr.audit_chain_head RENAME COLUMN last_id TO last_seq;
ALTER TABLE alpr.audit_chain_head ADD COLUMN scan_from timestamptz NOT NULL DEFAULT '-infinity';
