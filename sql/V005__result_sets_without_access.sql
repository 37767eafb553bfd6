-- Supervisors' audit reviews park their rows too (fetched after the review's own audit row commits),
-- but they run under no case access session.
SET LOCAL ROLE alpr_owner;
ALTER TABLE alpr.result_sets ALTER COLUMN access_id DROP NOT NULL;
