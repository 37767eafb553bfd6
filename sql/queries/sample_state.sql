-- The loaded sample's end date and whether anyone has used the workbench yet (an empty audit log).
SELECT (SELECT end_date FROM workbench_meta.sample_load) AS end_date,
       (SELECT count(*) FROM alpr.audit_log) AS audit_records
