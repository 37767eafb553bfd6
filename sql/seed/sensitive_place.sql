-- A sample sensitive place (demo data, not a real registry); kept once by name.
INSERT INTO alpr.sensitive_places (name, kind, location, radius_m, added_by)
SELECT %(name)s, %(kind)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(radius_m)s, 'setup'
WHERE NOT EXISTS (SELECT 1 FROM alpr.sensitive_places WHERE name = %(name)s);
