INSERT INTO alpr.hotlists (name, source) VALUES (%(name)s, %(source)s) ON CONFLICT (name) DO NOTHING;
INSERT INTO alpr.hotlist_entries (hotlist_id, plate, skeleton, state, reason, source, expires_at)
SELECT h.hotlist_id, %(plate)s, %(skeleton)s, %(state)s, %(reason)s, %(source)s, %(expires_at)s
FROM alpr.hotlists h
WHERE h.name = %(name)s
  AND NOT EXISTS (SELECT 1 FROM alpr.hotlist_entries e WHERE e.hotlist_id = h.hotlist_id AND e.plate = %(plate)s);
