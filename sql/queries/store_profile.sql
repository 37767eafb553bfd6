-- The active agency profile; the guard functions read it on every call.
INSERT INTO alpr.policy_profile (singleton, key, profile, sha256)
VALUES (true, %(key)s, %(profile)s::jsonb, %(sha256)s)
ON CONFLICT (singleton) DO UPDATE
    SET key = excluded.key, profile = excluded.profile, sha256 = excluded.sha256, loaded_at = now()
    WHERE alpr.policy_profile.sha256 IS DISTINCT FROM excluded.sha256
