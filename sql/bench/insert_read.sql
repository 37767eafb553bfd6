-- Baseline for benchmarks/load.py: one read per INSERT statement.
INSERT INTO alpr.reads (read_at, plate_raw, plate, plate_skeleton, state, location, camera_id, source, confidence)
VALUES (%s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, %s, %s)
