-- Baseline for benchmarks/audit.py: what api.plate_history returns, read straight from the table by the
-- owner, with no access check, no audit row and no second round trip.
SELECT coalesce(jsonb_agg(alpr.read_json(r) ORDER BY r.read_at), '[]') AS payload
FROM alpr.reads r
WHERE r.plate = %(plate)s AND r.read_at >= %(start)s AND r.read_at < %(end)s AND r.logically_deleted_at IS NULL
