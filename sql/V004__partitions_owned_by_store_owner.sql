-- Monthly partitions made by a loader running as the superuser belonged to it, not to the store owner,
-- so the owner's grants could not reach them. Hand them over; from now on the partition functions are
-- SECURITY DEFINER and create them as alpr_owner.
DO $$
DECLARE
    stray record;
BEGIN
    FOR stray IN SELECT tablename FROM pg_tables WHERE schemaname = 'alpr' AND tableowner <> 'alpr_owner' LOOP
        EXECUTE format('ALTER TABLE alpr.%I OWNER TO alpr_owner', stray.tablename);
    END LOOP;
END $$;
