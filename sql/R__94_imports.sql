-- An agency's own reads into the store: sources and their cameras (administrators), file imports staged by
-- their starter and then validated, de-duplicated and stored by one audited call, a live feed's batches
-- (authenticated per source by its token's sha256), the rejected rows with their reasons, and the transfers
-- each source and camera last made. Administrators and feeders write; feeders read nothing of the store.
SET LOCAL ROLE alpr_owner;

-- The jurisdiction reads must fall in: the profile's polygon ([[lon, lat], ...]) when it has one, else its box.
CREATE OR REPLACE FUNCTION alpr.jurisdiction() RETURNS geometry
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN jsonb_typeof(alpr.policy() -> 'agency' -> 'jurisdiction_polygon') = 'array' THEN
            ST_SetSRID(ST_MakePolygon(ST_MakeLine(ARRAY(
                SELECT ST_MakePoint((p ->> 0)::float8, (p ->> 1)::float8)
                FROM jsonb_array_elements(alpr.policy() -> 'agency' -> 'jurisdiction_polygon'
                                          || jsonb_build_array(alpr.policy() -> 'agency' -> 'jurisdiction_polygon' -> 0)) p))),
                       4326)
        ELSE ST_MakeEnvelope((b ->> 0)::float8, (b ->> 1)::float8, (b ->> 2)::float8, (b ->> 3)::float8, 4326) END
    FROM (SELECT alpr.policy() -> 'agency' -> 'jurisdiction_bbox' AS b) box
$$;

-- Why a row may not be stored, or NULL, in the order a person would check. One SQL expression (inlined
-- into the import's single pass; a PL/pgSQL call per row would cost more than the rest of the import).
CREATE OR REPLACE FUNCTION alpr.read_rejection(p_reject_reason text, p_plate_raw text, p_read_at timestamptz,
                                               p_lat float8, p_lon float8, p_camera_id text, p_camera_known boolean,
                                               p_camera_other_source boolean, p_cameras_registered boolean,
                                               p_confidence real, p_heading real, p_state text, p_image bytea,
                                               p_oldest timestamptz, p_newest timestamptz, p_area geometry)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_reject_reason IS NOT NULL THEN p_reject_reason
        WHEN p_read_at IS NULL THEN 'no read time'
        WHEN p_read_at > p_newest THEN 'read time in the future'
        WHEN p_read_at < p_oldest THEN 'older than the retention period (it would be purged at once)'
        WHEN alpr.normalize_plate(p_plate_raw) = '' THEN 'empty plate'
        WHEN alpr.normalize_plate(p_plate_raw) !~ '^[A-Z0-9]+$' THEN 'impossible plate: characters other than letters and digits'
        WHEN length(alpr.normalize_plate(p_plate_raw)) NOT BETWEEN 2 AND 10 THEN 'impossible plate: length outside 2-10'
        WHEN coalesce(p_camera_id, '') = '' THEN 'no camera or unit id'
        WHEN p_camera_other_source THEN 'camera registered to another source'
        WHEN NOT p_camera_known AND p_cameras_registered THEN 'unknown camera (this source''s cameras must be registered)'
        WHEN p_lat IS NULL OR p_lon IS NULL THEN 'no location (the read has none and its camera has none)'
        WHEN p_lat NOT BETWEEN -90 AND 90 OR p_lon NOT BETWEEN -180 AND 180 THEN 'coordinates out of range'
        WHEN NOT ST_Intersects(p_area, ST_SetSRID(ST_MakePoint(p_lon, p_lat), 4326)) THEN 'outside the agency''s jurisdiction'
        WHEN p_confidence IS NOT NULL AND p_confidence NOT BETWEEN 0 AND 1 THEN 'confidence outside 0-1'
        WHEN p_heading IS NOT NULL AND p_heading NOT BETWEEN 0 AND 360 THEN 'heading outside 0-360 degrees'
        WHEN p_state IS NOT NULL AND p_state !~ '^[A-Z]{2}$' THEN 'state is not a two-letter code'
        WHEN p_image IS NOT NULL AND (alpr.image_header(p_image)).media_type IS NULL THEN 'image is not a JPEG or PNG that decodes'
    END
$$;

CREATE OR REPLACE FUNCTION api.register_source(p_name text, p_kind text, p_cameras_registered boolean DEFAULT true)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('name', alpr.clip(p_name, 80), 'kind', alpr.clip(p_kind, 40),
                                       'cameras_registered', p_cameras_registered);
    made alpr.read_sources;
BEGIN
    gate := alpr.role_check(ARRAY['administrator'], 'register_source', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    IF p_name IS NULL OR p_name !~ '^[a-z][a-z0-9_-]{1,62}$' THEN
        RETURN alpr.admin_result('register_source', params, false,
                                 'a source name is 2-63 lowercase letters, digits, - or _, starting with a letter', NULL, 'invalid_name');
    END IF;
    IF p_kind IS NULL OR p_kind NOT IN ('fixed', 'mobile', 'commercial', 'shared') THEN
        RETURN alpr.admin_result('register_source', params, false, 'a source is fixed, mobile, commercial or shared',
                                 NULL, 'invalid_kind');
    END IF;
    INSERT INTO alpr.read_sources (name, kind, cameras_registered) VALUES (p_name, p_kind, coalesce(p_cameras_registered, true))
    ON CONFLICT (name) DO NOTHING RETURNING * INTO made;
    IF made.source_id IS NULL THEN
        SELECT * INTO made FROM alpr.read_sources WHERE name = p_name;
        IF made.kind <> p_kind THEN
            RETURN alpr.admin_result('register_source', params, false,
                                     format('source %s is already registered as %s', p_name, made.kind), NULL, 'conflict');
        END IF;
    END IF;
    RETURN alpr.admin_result('register_source', params, true, format('source %s (%s)', made.name, made.kind),
                             jsonb_build_object('source_id', made.source_id, 'name', made.name, 'kind', made.kind));
END
$$;

-- The client makes the token and sends only its sha256 (statements are logged; the token never is).
CREATE OR REPLACE FUNCTION api.set_source_token(p_name text, p_token_sha256 text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('name', alpr.clip(p_name, 80));
BEGIN
    gate := alpr.role_check(ARRAY['administrator'], 'set_source_token', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    IF p_token_sha256 IS NULL OR p_token_sha256 !~ '^[0-9a-f]{64}$' THEN
        RETURN alpr.admin_result('set_source_token', params, false, 'give the token''s sha256 as 64 hex digits', NULL,
                                 'invalid_token');
    END IF;
    UPDATE alpr.read_sources SET token_sha256 = p_token_sha256 WHERE name = p_name;
    IF NOT FOUND THEN
        RETURN alpr.admin_result('set_source_token', params, false, format('no source %s', p_name), NULL, 'unknown_source');
    END IF;
    RETURN alpr.admin_result('set_source_token', params, true, format('source %s has a new feed token', p_name));
END
$$;

CREATE OR REPLACE FUNCTION api.register_camera(p_source text, p_camera_id text, p_name text, p_lat float8,
                                               p_lon float8, p_heading_deg real DEFAULT NULL)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('source', alpr.clip(p_source, 80), 'camera_id', alpr.clip(p_camera_id, 80),
                                       'name', alpr.clip(p_name, 120), 'lat', p_lat, 'lon', p_lon, 'heading_deg', p_heading_deg);
    src alpr.read_sources;
    existing alpr.cameras;
BEGIN
    gate := alpr.role_check(ARRAY['administrator'], 'register_camera', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    SELECT * INTO src FROM alpr.read_sources WHERE name = p_source;
    IF src.source_id IS NULL THEN
        RETURN alpr.admin_result('register_camera', params, false, format('no source %s', p_source), NULL, 'unknown_source');
    END IF;
    IF coalesce(p_camera_id, '') !~ '^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,79}$' THEN
        RETURN alpr.admin_result('register_camera', params, false,
                                 'a camera id is 1-80 letters, digits or _ . : / -', NULL, 'invalid_camera');
    END IF;
    IF p_lat IS NULL OR p_lon IS NULL OR p_lat NOT BETWEEN -90 AND 90 OR p_lon NOT BETWEEN -180 AND 180
       OR NOT ST_Intersects(alpr.jurisdiction(), ST_SetSRID(ST_MakePoint(p_lon, p_lat), 4326)) THEN
        RETURN alpr.admin_result('register_camera', params, false,
                                 'a camera''s latitude and longitude must be inside the agency''s jurisdiction', NULL,
                                 'outside_jurisdiction');
    END IF;
    IF p_heading_deg IS NOT NULL AND p_heading_deg NOT BETWEEN 0 AND 360 THEN
        RETURN alpr.admin_result('register_camera', params, false, 'a heading is 0-360 degrees', NULL, 'invalid_heading');
    END IF;
    SELECT * INTO existing FROM alpr.cameras WHERE camera_id = p_camera_id;
    IF existing.camera_id IS NOT NULL AND existing.source_id IS DISTINCT FROM src.source_id THEN
        RETURN alpr.admin_result('register_camera', params, false,
                                 format('camera %s already belongs to another source', p_camera_id), NULL, 'conflict');
    END IF;
    INSERT INTO alpr.cameras (camera_id, name, kind, location, heading_deg, source_id)
    VALUES (p_camera_id, coalesce(nullif(p_name, ''), p_camera_id), src.kind,
            ST_SetSRID(ST_MakePoint(p_lon, p_lat), 4326)::geography, p_heading_deg, src.source_id)
    ON CONFLICT (camera_id) DO UPDATE SET name = excluded.name, location = excluded.location,
                                          heading_deg = excluded.heading_deg, active = true;
    RETURN alpr.admin_result('register_camera', params, true, format('camera %s of source %s', p_camera_id, p_source),
                             jsonb_build_object('camera_id', p_camera_id, 'source', p_source));
END
$$;

-- Opens a file import: a staging table only its starter may write (COPY into it), and the import's id.
CREATE OR REPLACE FUNCTION api.begin_import(p_source text, p_format text, p_file_name text, p_file_sha256 text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('source', alpr.clip(p_source, 80), 'format', alpr.clip(p_format, 40),
                                       'file_name', alpr.clip(p_file_name, 300), 'file_sha256', alpr.clip(p_file_sha256, 80));
    src alpr.read_sources;
    opened alpr.read_imports;
    staging_name text;
BEGIN
    gate := alpr.role_check(ARRAY['administrator', 'feeder'], 'begin_import', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    SELECT * INTO src FROM alpr.read_sources WHERE name = p_source AND active;
    IF src.source_id IS NULL THEN
        RETURN alpr.admin_result('begin_import', params, false, format('no active source %s; an administrator registers it '
                                 '(workbench sources add)', p_source), NULL, 'unknown_source');
    END IF;
    IF coalesce(p_file_sha256, '') !~ '^[0-9a-f]{64}$' THEN
        RETURN alpr.admin_result('begin_import', params, false, 'give the file''s sha256 as 64 hex digits', NULL, 'invalid_hash');
    END IF;
    PERFORM alpr.drop_stale_staging();
    INSERT INTO alpr.read_imports (source_id, channel, file_name, file_sha256, format)
    VALUES (src.source_id, 'file', alpr.clip(p_file_name, 300), p_file_sha256, alpr.clip(p_format, 40))
    RETURNING * INTO opened;
    staging_name := 'import_' || replace(opened.import_id::text, '-', '');
    EXECUTE format('CREATE UNLOGGED TABLE staging.%I (line_no integer NOT NULL, plate_raw text, read_at timestamptz, '
                   'lat float8, lon float8, camera_id text, heading_deg real, confidence real, state text, '
                   'vehicle_make text, vehicle_color text, vendor_read_id text, image bytea, reject_reason text, '
                   'raw_row text)', staging_name);
    EXECUTE format('GRANT INSERT ON staging.%I TO %I', staging_name, session_user);
    UPDATE alpr.read_imports SET staging_table = staging_name WHERE import_id = opened.import_id;
    -- Opening writes no reads: its record is the import's own (api.finish_import); a refusal is audited above.
    RETURN (NULL, 'granted', NULL, format('import %s open: COPY its rows into staging.%s', opened.import_id, staging_name),
            NULL, NULL, '{}', jsonb_build_object('import_id', opened.import_id, 'staging_table', 'staging.' || staging_name))::api.call_result;
END
$$;

-- Validates, de-duplicates and stores the rows of one import (rows in p_rows, a table with the staging
-- columns). Returns the counts. The caller has checked the role and holds the import's row.
CREATE OR REPLACE FUNCTION alpr.store_rows(p_import alpr.read_imports, p_rows regclass, p_bulk boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    src alpr.read_sources;
    retention jsonb := alpr.policy() -> 'retention';
    skew interval := make_interval(mins => coalesce((alpr.policy() -> 'transfers' ->> 'max_clock_skew_minutes')::int, 10));
    counts record;
    stored bigint := 0;
    hit_count integer := 0;
    month record;
    target text;
    -- Once per call, a parameter below: a call per row rebuilt the polygon for each read (200 µs a read).
    area geometry := alpr.jurisdiction();
BEGIN
    SELECT * INTO src FROM alpr.read_sources WHERE source_id = p_import.source_id;
    PERFORM set_config('work_mem', '256MB', true);  -- a million keys sorted in memory, not spilled
    DROP TABLE IF EXISTS pg_temp.checked, pg_temp.fresh;
    -- One pass: each row's plate normalized once, its camera looked up, its reason, its key.
    EXECUTE format($q$
        CREATE TEMP TABLE checked ON COMMIT DROP AS
        SELECT s.line_no, s.plate_raw, s.read_at, s.camera_id, s.heading_deg, s.confidence, s.state, s.vehicle_make,
               s.vehicle_color, s.vendor_read_id, s.image, s.lat, s.lon, s.raw_row, n.plate, coalesce(s.lat, ST_Y(c.location::geometry)) AS use_lat,
               coalesce(s.lon, ST_X(c.location::geometry)) AS use_lon, c.camera_id IS NULL AS new_camera,
               alpr.read_rejection(s.reject_reason, s.plate_raw, s.read_at, coalesce(s.lat, ST_Y(c.location::geometry)),
                                   coalesce(s.lon, ST_X(c.location::geometry)), s.camera_id, c.camera_id IS NOT NULL,
                                   c.camera_id IS NOT NULL AND c.source_id IS DISTINCT FROM %s, %L, s.confidence,
                                   s.heading_deg, s.state, s.image, now() - %L::interval, now() + %L::interval,
                                   $1) AS reason,
               md5(%s || '|' || coalesce('v:' || nullif(s.vendor_read_id, ''),
                   'c:' || coalesce(s.camera_id, '') || '|' || coalesce(to_char(s.read_at AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS.US'), '') || '|' || n.plate))::uuid AS read_key
        FROM %s s CROSS JOIN LATERAL (SELECT alpr.normalize_plate(s.plate_raw) AS plate) n
        LEFT JOIN alpr.cameras c ON c.camera_id = s.camera_id$q$,
        src.source_id, src.cameras_registered, retention ->> 'purge_after', skew, src.source_id, p_rows) USING area;

    -- Refused rows with the row as it came (what the reader kept of a row it could not read).
    INSERT INTO alpr.import_rejects (import_id, line_no, reason, row_data)
    SELECT p_import.import_id, line_no, reason,
           jsonb_strip_nulls(jsonb_build_object('plate', plate_raw, 'read_at', read_at, 'lat', lat, 'lon', lon,
               'camera_id', camera_id, 'heading_deg', heading_deg, 'confidence', confidence, 'state', state,
               'vehicle_make', vehicle_make, 'vehicle_color', vehicle_color, 'vendor_read_id', vendor_read_id,
               'image_bytes', length(image), 'as_given', raw_row))
    FROM checked WHERE reason IS NOT NULL
    ON CONFLICT DO NOTHING;

    -- Cameras a source may introduce by reading (cameras_registered = false): registered at their first read.
    IF NOT src.cameras_registered THEN
        INSERT INTO alpr.cameras (camera_id, name, kind, location, source_id)
        SELECT DISTINCT ON (camera_id) camera_id, camera_id, src.kind,
               ST_SetSRID(ST_MakePoint(use_lon, use_lat), 4326)::geography, src.source_id
        FROM checked WHERE reason IS NULL AND new_camera ORDER BY camera_id, read_at
        ON CONFLICT (camera_id) DO NOTHING;
    END IF;

    -- A key seen before (this file, an earlier import, the feed) is a duplicate, never a second read. The sort
    -- is of the keys alone (sorting whole rows spilled to disk), in key order so the index is written in order.
    CREATE TEMP TABLE fresh ON COMMIT DROP AS
    WITH first_of_key AS (
        SELECT DISTINCT ON (read_key) read_key, ctid AS row_at FROM checked WHERE reason IS NULL ORDER BY read_key, line_no
    ), keyed AS (
        INSERT INTO alpr.read_keys (source_id, read_key, read_id)
        SELECT src.source_id, read_key, nextval('alpr.reads_read_id_seq') FROM first_of_key ORDER BY read_key
        ON CONFLICT DO NOTHING
        RETURNING read_key, read_id
    )
    SELECT k.read_id, c.read_at, c.plate_raw, c.plate, alpr.plate_skeleton(c.plate) AS skeleton, c.state,
           ST_SetSRID(ST_MakePoint(c.use_lon, c.use_lat), 4326)::geography AS location, c.camera_id, c.confidence,
           c.image, c.vehicle_make, c.vehicle_color, c.heading_deg, c.vendor_read_id
    FROM keyed k JOIN first_of_key f USING (read_key) JOIN checked c ON c.ctid = f.row_at  -- line_no is a message's, not a read's
    ORDER BY c.read_at;
    IF p_bulk THEN  -- a file's months each read by the index (a feed's batch is small: scanned)
        CREATE INDEX ON fresh (read_at);
        ANALYZE fresh;  -- temporary tables have no statistics otherwise
    END IF;

    -- Images by content: one row per sha256, shared by every read that carries the same bytes.
    INSERT INTO alpr.read_images (sha256, kind, media_type, width, height, content)
    SELECT DISTINCT ON (sha) sha, 'plate', (h).media_type, (h).width, (h).height, image
    FROM (SELECT encode(sha256(image), 'hex') AS sha, alpr.image_header(image) AS h, image
          FROM fresh WHERE image IS NOT NULL) i
    ORDER BY sha
    ON CONFLICT (sha256) DO NOTHING;

    -- A month with no reads yet takes a large import as a bare table indexed afterwards (several times faster
    -- than through the live indexes); any other month through alpr.reads.
    FOR month IN SELECT date_trunc('month', read_at AT TIME ZONE 'UTC')::date AS first_day, count(*) AS n
                 FROM fresh GROUP BY 1 ORDER BY 1 LOOP
        target := NULL;
        IF p_bulk AND month.n >= 20000 THEN
            target := alpr.bulk_stage_month(month.first_day);
        END IF;
        IF target IS NULL THEN
            PERFORM alpr.ensure_partition(month.first_day);
            target := 'reads';
        END IF;
        EXECUTE format($q$
            INSERT INTO alpr.%I (read_id, read_at, plate_raw, plate, plate_skeleton, state, location, camera_id, source,
                                 confidence, plate_image_id, vehicle_make, vehicle_color, source_id, heading_deg, vendor_read_id)
            SELECT f.read_id, f.read_at, f.plate_raw, f.plate, f.skeleton, f.state, f.location, f.camera_id, %L, f.confidence,
                   i.image_id, f.vehicle_make, f.vehicle_color, %s, f.heading_deg, f.vendor_read_id
            FROM fresh f LEFT JOIN alpr.read_images i ON f.image IS NOT NULL AND i.sha256 = encode(sha256(f.image), 'hex')
            WHERE f.read_at >= %L AND f.read_at < %L$q$,
            target, src.kind, src.source_id, month.first_day::timestamp AT TIME ZONE 'UTC',
            (month.first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        IF target <> 'reads' THEN
            SET LOCAL maintenance_work_mem = '256MB';
            PERFORM alpr.bulk_attach_month(month.first_day);
        END IF;
        stored := stored + month.n;
    END LOOP;

    INSERT INTO alpr.plates (plate, skeleton, plate_length, first_seen, last_seen)
    SELECT plate, min(skeleton), length(plate), min(read_at), max(read_at) FROM fresh GROUP BY plate
    ON CONFLICT (plate) DO UPDATE SET first_seen = least(alpr.plates.first_seen, excluded.first_seen),
                                      last_seen = greatest(alpr.plates.last_seen, excluded.last_seen);

    -- Hot lists matched as the reads arrive: a hit is there for the next look (verify before action).
    INSERT INTO alpr.hits (read_id, read_at, entry_id, match_kind)
    SELECT f.read_id, f.read_at, e.entry_id, CASE WHEN f.plate = e.plate THEN 'exact' ELSE 'lookalike' END
    FROM fresh f JOIN alpr.hotlist_entries e ON e.skeleton = f.skeleton
    WHERE alpr.entry_active(e, now()) AND (e.state IS NULL OR f.state IS NULL OR f.state = e.state)
    ON CONFLICT (read_id, entry_id) DO NOTHING;
    GET DIAGNOSTICS hit_count = ROW_COUNT;

    SELECT count(*) AS rows_in, count(*) FILTER (WHERE reason IS NOT NULL) AS rejected,
           min(read_at) FILTER (WHERE reason IS NULL) AS first_read, max(read_at) FILTER (WHERE reason IS NULL) AS last_read
    INTO counts FROM checked;
    UPDATE alpr.read_sources SET last_transfer_at = now() WHERE source_id = src.source_id;
    UPDATE alpr.cameras c SET last_transfer_at = now()
    FROM (SELECT DISTINCT camera_id FROM checked WHERE reason IS NULL) d WHERE c.camera_id = d.camera_id;
    RETURN jsonb_build_object('rows', counts.rows_in, 'accepted', stored, 'rejected', counts.rejected,
                              'duplicates', counts.rows_in - counts.rejected - stored, 'hits', hit_count,
                              'first_read', counts.first_read, 'last_read', counts.last_read);
END
$$;

CREATE OR REPLACE FUNCTION alpr.import_answer(p_function text, p_import alpr.read_imports, p_source text,
                                              p_counts jsonb)
RETURNS api.call_result
LANGUAGE plpgsql AS $$
DECLARE
    details jsonb := p_counts || jsonb_build_object('import_id', p_import.import_id, 'source', p_source,
                                                    'file_name', p_import.file_name, 'file_sha256', p_import.file_sha256,
                                                    'format', p_import.format, 'channel', p_import.channel);
    answer api.call_result;
BEGIN
    -- The counts depend on the store (duplicates, hits): parked behind the audit row like a query's rows.
    answer := alpr.admin_deferred(p_function, jsonb_build_object('import_id', p_import.import_id), format(
        '%s rows: %s stored, %s rejected, %s already in the store%s', p_counts ->> 'rows', p_counts ->> 'accepted',
        p_counts ->> 'rejected', p_counts ->> 'duplicates',
        CASE WHEN (p_counts ->> 'hits')::int > 0 THEN format('; %s hot-list hits (%s)', p_counts ->> 'hits', alpr.hit_warning())
             ELSE '' END), details);
    UPDATE alpr.read_imports SET finished_at = now(), rows_in = (p_counts ->> 'rows')::int,
           accepted = (p_counts ->> 'accepted')::int, rejected = (p_counts ->> 'rejected')::int,
           duplicates = (p_counts ->> 'duplicates')::int, hits = (p_counts ->> 'hits')::int, audit_id = answer.audit_id
    WHERE import_id = p_import.import_id;
    RETURN answer;
END
$$;

-- Stores a staged file: one audited administrative action with its counts and the file's hash. All or
-- nothing: an interrupted call leaves the import open and its staged rows as they were.
CREATE OR REPLACE FUNCTION api.finish_import(p_import_id uuid)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
SET lock_timeout = '30s' AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('import_id', p_import_id);
    opened alpr.read_imports;
    counts jsonb;
    source_name text;
BEGIN
    gate := alpr.role_check(ARRAY['administrator', 'feeder'], 'finish_import', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    SELECT * INTO opened FROM alpr.read_imports WHERE import_id = p_import_id AND channel = 'file' FOR UPDATE;
    IF opened.import_id IS NULL OR opened.started_by <> session_user THEN
        RETURN alpr.admin_result('finish_import', params, false, format('no open import %s of this login', p_import_id),
                                 NULL, 'unknown_import');
    END IF;
    IF opened.finished_at IS NOT NULL OR opened.abandoned_at IS NOT NULL THEN
        RETURN alpr.admin_result('finish_import', params, false, format('import %s was %s already', p_import_id,
                                 CASE WHEN opened.finished_at IS NOT NULL THEN 'stored' ELSE 'abandoned' END),
                                 NULL, 'already_finished');
    END IF;
    -- File imports one at a time: two must not stage the same empty month.
    PERFORM 1 FROM alpr.job_locks WHERE job = 'import' FOR UPDATE;
    counts := alpr.store_rows(opened, format('staging.%I', opened.staging_table)::regclass, true);
    EXECUTE format('DROP TABLE staging.%I', opened.staging_table);
    SELECT name INTO source_name FROM alpr.read_sources WHERE source_id = opened.source_id;
    RETURN alpr.import_answer('import_reads', opened, source_name, counts);
END
$$;

-- Closes an open import that will not be stored (the file proved bad after staging began): its staged rows go.
CREATE OR REPLACE FUNCTION api.abandon_import(p_import_id uuid, p_reason text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('import_id', p_import_id, 'reason', alpr.clip(p_reason, 500));
    opened alpr.read_imports;
BEGIN
    gate := alpr.role_check(ARRAY['administrator', 'feeder'], 'abandon_import', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    SELECT * INTO opened FROM alpr.read_imports WHERE import_id = p_import_id AND channel = 'file' FOR UPDATE;
    IF opened.import_id IS NULL OR opened.started_by <> session_user OR opened.finished_at IS NOT NULL
       OR opened.abandoned_at IS NOT NULL THEN
        RETURN alpr.admin_result('abandon_import', params, false, format('no open import %s of this login', p_import_id),
                                 NULL, 'unknown_import');
    END IF;
    EXECUTE format('DROP TABLE IF EXISTS staging.%I', opened.staging_table);
    UPDATE alpr.read_imports SET abandoned_at = now(), abandon_reason = alpr.clip(p_reason, 500)
    WHERE import_id = p_import_id;
    RETURN alpr.admin_result('abandon_import', params, true, format('import %s abandoned; nothing was stored', p_import_id));
END
$$;

-- Staging tables of imports opened more than two days ago and never finished: dropped, the import abandoned.
CREATE OR REPLACE FUNCTION alpr.drop_stale_staging() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    stale alpr.read_imports;
    dropped integer := 0;
BEGIN
    FOR stale IN SELECT * FROM alpr.read_imports WHERE channel = 'file' AND finished_at IS NULL AND abandoned_at IS NULL
                 AND started_at < now() - interval '2 days' FOR UPDATE SKIP LOCKED LOOP
        EXECUTE format('DROP TABLE IF EXISTS staging.%I', stale.staging_table);
        UPDATE alpr.read_imports SET abandoned_at = now(), abandon_reason = 'not finished within two days'
        WHERE import_id = stale.import_id;
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END
$$;

-- A live feed's batch: p_rows is a JSON array of reads already in the staging columns (the feed server
-- maps each vendor's message). The source is the one whose token hashes to p_token_sha256.
CREATE OR REPLACE FUNCTION api.feed_reads(p_token_sha256 text, p_format text, p_rows jsonb)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
SET lock_timeout = '5s' AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('format', alpr.clip(p_format, 40),
                                       'rows', CASE WHEN jsonb_typeof(p_rows) = 'array' THEN jsonb_array_length(p_rows) END);
    src alpr.read_sources;
    opened alpr.read_imports;
    counts jsonb;
BEGIN
    gate := alpr.role_check(ARRAY['administrator', 'feeder'], 'feed_reads', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    SELECT * INTO src FROM alpr.read_sources WHERE token_sha256 = p_token_sha256 AND active;
    IF src.source_id IS NULL THEN
        RETURN alpr.admin_result('feed_reads', params, false, 'no active source has this feed token', NULL, 'bad_token');
    END IF;
    IF jsonb_typeof(p_rows) IS DISTINCT FROM 'array' OR jsonb_array_length(p_rows) > 50000 THEN
        RETURN alpr.admin_result('feed_reads', params || jsonb_build_object('source', src.name), false,
                                 'a batch is a JSON array of at most 50,000 reads', NULL, 'invalid_batch');
    END IF;
    -- Beside other batches, not while a file import stages a month (the feed server keeps the batch and retries).
    PERFORM 1 FROM alpr.job_locks WHERE job = 'import' FOR SHARE;
    INSERT INTO alpr.read_imports (source_id, channel, format) VALUES (src.source_id, 'feed', alpr.clip(p_format, 40))
    RETURNING * INTO opened;
    DROP TABLE IF EXISTS pg_temp.feed_batch;
    CREATE TEMP TABLE feed_batch ON COMMIT DROP AS
    SELECT coalesce(line_no, 0)::int AS line_no, plate_raw, read_at, lat, lon, camera_id, heading_deg, confidence, state, vehicle_make,
           vehicle_color, vendor_read_id, decode(image_base64, 'base64') AS image, reject_reason, raw_row
    FROM jsonb_to_recordset(p_rows) AS r(line_no bigint, plate_raw text, read_at timestamptz, lat float8, lon float8,
         camera_id text, heading_deg real, confidence real, state text, vehicle_make text, vehicle_color text,
         vendor_read_id text, image_base64 text, reject_reason text, raw_row text);
    counts := alpr.store_rows(opened, 'pg_temp.feed_batch'::regclass, false);
    RETURN alpr.import_answer('feed_reads', opened, src.name, counts);
END
$$;

-- The rows an import refused and why (administrators; a feeder its own imports): what came, as it came.
CREATE OR REPLACE FUNCTION api.import_rejects(p_import_id uuid, p_limit integer DEFAULT 1000)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('import_id', p_import_id, 'limit', p_limit);
    opened alpr.read_imports;
    rows_out jsonb;
    total integer;
BEGIN
    gate := alpr.role_check(ARRAY['administrator', 'feeder'], 'import_rejects', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    SELECT * INTO opened FROM alpr.read_imports WHERE import_id = p_import_id;
    IF opened.import_id IS NULL OR ((gate.who).role = 'feeder' AND opened.started_by <> session_user) THEN
        RETURN alpr.admin_result('import_rejects', params, false, format('no import %s for this login', p_import_id),
                                 NULL, 'unknown_import');
    END IF;
    SELECT count(*) INTO total FROM alpr.import_rejects WHERE import_id = p_import_id;
    SELECT coalesce(jsonb_agg(jsonb_build_object('line_no', line_no, 'reason', reason, 'row', row_data) ORDER BY line_no), '[]')
    INTO rows_out
    FROM (SELECT * FROM alpr.import_rejects WHERE import_id = p_import_id ORDER BY line_no
          LIMIT greatest(1, least(coalesce(p_limit, 1000), 100000))) r;
    RETURN alpr.admin_deferred('import_rejects', params, format('%s rejected rows', total),
                               jsonb_build_object('rejects', rows_out, 'total', total));
END
$$;

-- Sources and cameras with their last transfer, those past the profile's interval marked stale.
CREATE OR REPLACE FUNCTION alpr.transfer_overview() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH limit_days AS (
        SELECT coalesce((alpr.policy() -> 'transfers' ->> 'max_days_between')::int, 30) AS days
    )
    SELECT jsonb_build_object(
        'max_days_between', (SELECT days FROM limit_days),
        'sources', coalesce((SELECT jsonb_agg(jsonb_build_object(
            'name', s.name, 'kind', s.kind, 'last_transfer_at', s.last_transfer_at, 'feed', s.token_sha256 IS NOT NULL,
            'stale', coalesce(s.last_transfer_at, s.created_at) < now() - make_interval(days => d.days)) ORDER BY s.name)
            FROM alpr.read_sources s, limit_days d WHERE s.active), '[]'),
        'cameras', coalesce((SELECT jsonb_agg(jsonb_build_object(
            'camera_id', c.camera_id, 'source', s.name, 'kind', c.kind, 'last_transfer_at', c.last_transfer_at,
            'stale', coalesce(c.last_transfer_at, s.created_at) < now() - make_interval(days => d.days)) ORDER BY c.camera_id)
            FROM alpr.cameras c JOIN alpr.read_sources s USING (source_id), limit_days d WHERE c.active), '[]'))
$$;

CREATE OR REPLACE FUNCTION api.transfer_status()
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    overview jsonb;
    stale integer;
BEGIN
    gate := alpr.role_check(ARRAY['administrator', 'supervisor'], 'transfer_status', '{}');
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    overview := alpr.transfer_overview();
    SELECT count(*) INTO stale FROM jsonb_array_elements((overview -> 'sources') || (overview -> 'cameras')) e
    WHERE (e ->> 'stale')::boolean;
    RETURN alpr.admin_result('transfer_status', '{}', true,
                             format('%s sources or cameras past %s days since their last transfer', stale,
                                    overview ->> 'max_days_between'), overview);
END
$$;

-- Scheduled work (pg_cron, workbench.schedule): each run is audited like the call a person would make.
CREATE OR REPLACE FUNCTION alpr.scheduled_transfer_check() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    overview jsonb := alpr.transfer_overview();
    stale jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(coalesce(e ->> 'name', e ->> 'camera_id')), '[]') INTO stale
    FROM jsonb_array_elements((overview -> 'sources') || (overview -> 'cameras')) e WHERE (e ->> 'stale')::boolean;
    PERFORM alpr.write_audit('transfer_check', 'granted', NULL, NULL, NULL, NULL, NULL,
                             jsonb_build_object('scheduled', true, 'stale', stale,
                                                'max_days_between', overview -> 'max_days_between'),
                             '{}', 0, CASE WHEN jsonb_array_length(stale) > 0 THEN ARRAY['stale_transfer'] ELSE '{}' END, '{}');
    RETURN jsonb_array_length(stale);
END
$$;

CREATE OR REPLACE FUNCTION alpr.scheduled_hotlist_match() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    days integer := coalesce((alpr.policy() -> 'schedule' ->> 'hotlist_match_days')::int, 2);
    added integer;
BEGIN
    -- Entries added since the reads arrived are matched against the recent ones.
    added := alpr.match_hotlists(now() - make_interval(days => days), now() + interval '1 day');
    PERFORM alpr.write_audit('hotlist_match', 'granted', NULL, NULL, NULL, NULL, NULL,
                             jsonb_build_object('scheduled', true, 'days', days, 'new_hits', added), '{}', 0, '{}', '{}');
    RETURN added;
END
$$;

REVOKE ALL ON FUNCTION alpr.jurisdiction(), alpr.read_rejection(text, text, timestamptz, float8, float8, text, boolean,
    boolean, boolean, real, real, text, bytea, timestamptz, timestamptz, geometry),
    alpr.store_rows(alpr.read_imports, regclass, boolean),
    alpr.import_answer(text, alpr.read_imports, text, jsonb), alpr.transfer_overview(),
    alpr.scheduled_transfer_check(), alpr.scheduled_hotlist_match(), alpr.drop_stale_staging() FROM PUBLIC;
REVOKE ALL ON FUNCTION api.register_source(text, text, boolean), api.set_source_token(text, text),
    api.register_camera(text, text, text, float8, float8, real), api.begin_import(text, text, text, text),
    api.finish_import(uuid), api.feed_reads(text, text, jsonb), api.import_rejects(uuid, integer),
    api.abandon_import(uuid, text), api.transfer_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.register_source(text, text, boolean), api.set_source_token(text, text),
    api.register_camera(text, text, text, float8, float8, real) TO workbench_administrator;
GRANT EXECUTE ON FUNCTION api.begin_import(text, text, text, text), api.finish_import(uuid), api.abandon_import(uuid, text),
    api.feed_reads(text, text, jsonb), api.import_rejects(uuid, integer)
    TO workbench_administrator, workbench_feeder;
GRANT EXECUTE ON FUNCTION api.fetch_result(uuid), api.whoami() TO workbench_feeder;
GRANT EXECUTE ON FUNCTION api.transfer_status() TO workbench_administrator, workbench_supervisor;
