-- The audited path of benchmarks/audit.py, as an analyst: the call (committed), then the parked rows.
SELECT result_id FROM api.plate_history(%(access_id)s, %(plate)s, %(start)s, %(end)s, false);
SELECT api.fetch_result(%(result_id)s)
