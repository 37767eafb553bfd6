INSERT INTO alpr.cameras (camera_id, name, kind, location, heading_deg)
VALUES (%(camera_id)s, %(name)s, %(kind)s,
        CASE WHEN %(lat)s::float8 IS NULL THEN NULL
             ELSE ST_SetSRID(ST_MakePoint(%(lon)s::float8, %(lat)s::float8), 4326)::geography END,
        %(heading_deg)s)
ON CONFLICT (camera_id) DO UPDATE SET name = excluded.name, kind = excluded.kind, location = excluded.location,
    heading_deg = excluded.heading_deg
