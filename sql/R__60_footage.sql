-- Footage as evidence, then its reads. The file is registered under the open case (what it is, its clock)
-- and uploaded into the content-addressed store, where the database itself checks its sha256 and size; only
-- then are reads a person confirmed against their crops saved, from that file, on the camera record the
-- database made for it, inside the file's own span of time, once per review (a retry returns the first
-- answer). All in single audited transactions; the answers come with the fetch.
SET LOCAL ROLE alpr_owner;

DROP FUNCTION IF EXISTS api.ingest_footage_reads(uuid, jsonb, jsonb);

-- Largest file and chunk the store takes (a 4K dash-cam hour is about 4 GB; upload in pieces of 8 MB).
CREATE OR REPLACE FUNCTION alpr.footage_limits(OUT max_bytes bigint, OUT max_chunk integer)
LANGUAGE sql IMMUTABLE AS $$ SELECT 8589934592::bigint, 8388608 $$;

-- Media type and pixel size from an image's header (JPEG or PNG), or NULLs: what a crop must decode as.
CREATE OR REPLACE FUNCTION alpr.image_header(p bytea, OUT media_type text, OUT width integer, OUT height integer)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    position integer := 2;
    marker integer;
BEGIN
    IF p IS NULL OR length(p) < 24 THEN RETURN; END IF;
    IF substring(p FROM 1 FOR 8) = '\x89504e470d0a1a0a'::bytea AND substring(p FROM 13 FOR 4) = '\x49484452'::bytea THEN
        media_type := 'image/png';
        width := (get_byte(p, 16) << 24) | (get_byte(p, 17) << 16) | (get_byte(p, 18) << 8) | get_byte(p, 19);
        height := (get_byte(p, 20) << 24) | (get_byte(p, 21) << 16) | (get_byte(p, 22) << 8) | get_byte(p, 23);
        RETURN;
    END IF;
    IF get_byte(p, 0) <> 255 OR get_byte(p, 1) <> 216 THEN RETURN; END IF;
    WHILE position + 9 < length(p) LOOP  -- JPEG: walk the segments to the frame header (SOFn)
        EXIT WHEN get_byte(p, position) <> 255;
        marker := get_byte(p, position + 1);
        IF marker BETWEEN 192 AND 207 AND marker NOT IN (196, 200, 204) THEN
            media_type := 'image/jpeg';
            height := (get_byte(p, position + 5) << 8) | get_byte(p, position + 6);
            width := (get_byte(p, position + 7) << 8) | get_byte(p, position + 8);
            RETURN;
        END IF;
        position := position + 2 + ((get_byte(p, position + 2) << 8) | get_byte(p, position + 3));
    END LOOP;
END
$$;

-- p_meta: {"file_name", "sha256", "size_bytes", "media_type", "duration_s", "frame_count", "recorded_start",
--          "clock_offset_s", "lat", "lon", "heading_deg", "label"}. Registering the same file twice under a
-- case returns the first registration; the answer says whether its content still has to be uploaded.
CREATE OR REPLACE FUNCTION api.register_footage(p_access_id uuid, p_meta jsonb)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('footage', CASE WHEN jsonb_typeof(p_meta) = 'object'
                                                      THEN (SELECT jsonb_object_agg(key, alpr.clip(value #>> '{}', 200))
                                                            FROM jsonb_each(p_meta)) END);
    checked record;
    problem text;
    meta record;
    existing alpr.footage;
    new_footage bigint;
    camera text;
BEGIN
    checked := alpr.check_session(p_access_id, 'register_footage', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    IF p_meta IS NULL OR jsonb_typeof(p_meta) <> 'object' THEN
        RETURN alpr.refuse_call(checked.session, 'register_footage', 'invalid_footage', 'describe the footage file', params);
    END IF;
    BEGIN
        SELECT lower(p_meta ->> 'sha256') AS sha256, (p_meta ->> 'size_bytes')::bigint AS size_bytes,
               (p_meta ->> 'duration_s')::float8 AS duration_s, (p_meta ->> 'frame_count')::int AS frame_count,
               (p_meta ->> 'recorded_start')::timestamptz AS recorded_start,
               coalesce((p_meta ->> 'clock_offset_s')::float8, 0) AS clock_offset_s,
               (p_meta ->> 'lat')::float8 AS lat, (p_meta ->> 'lon')::float8 AS lon,
               (p_meta ->> 'heading_deg')::real AS heading_deg, btrim(p_meta ->> 'file_name') AS file_name,
               coalesce(p_meta ->> 'media_type', 'application/octet-stream') AS media_type,
               coalesce(nullif(btrim(p_meta ->> 'label'), ''), p_meta ->> 'file_name') AS label
          INTO meta;
    EXCEPTION WHEN data_exception THEN
        RETURN alpr.refuse_call(checked.session, 'register_footage', 'invalid_footage',
                                format('the footage description is malformed: %s', SQLERRM), params);
    END;
    problem := CASE
        WHEN meta.sha256 IS NULL OR meta.sha256 !~ '^[0-9a-f]{64}$' THEN 'the file''s sha256 (64 hex digits) is required'
        WHEN meta.size_bytes IS NULL OR meta.size_bytes <= 0 OR meta.size_bytes > (alpr.footage_limits()).max_bytes
            THEN format('the file size must be 1 byte to %s bytes', (alpr.footage_limits()).max_bytes)
        WHEN meta.duration_s IS NULL OR meta.duration_s < 0 OR meta.duration_s > 86400 OR meta.duration_s = 'NaN'
            THEN 'the duration must be 0 (a still) to 86400 seconds'
        WHEN meta.frame_count IS NULL OR meta.frame_count < 1 THEN 'the footage needs at least one frame'
        WHEN meta.recorded_start IS NULL OR meta.recorded_start > now() + interval '1 day'
            THEN 'the time the footage started must be given, and not in the future'
        WHEN abs(meta.clock_offset_s) > 86400 THEN 'a clock offset beyond a day is not a clock error: check the start time'
        WHEN coalesce(meta.file_name, '') = '' THEN 'the file name is required'
        ELSE alpr.point_error(meta.lat, meta.lon) END;
    IF problem IS NULL AND meta.heading_deg IS NOT NULL AND NOT meta.heading_deg BETWEEN 0 AND 360 THEN
        problem := 'the heading must be 0 to 360 degrees';
    END IF;
    IF problem IS NOT NULL THEN
        RETURN alpr.refuse_call(checked.session, 'register_footage', 'invalid_footage', problem, params);
    END IF;
    SELECT * INTO existing FROM alpr.footage WHERE case_number = (checked.session).case_number AND sha256 = meta.sha256;
    IF existing.footage_id IS NULL THEN
        INSERT INTO alpr.evidence_files (sha256, size_bytes) VALUES (meta.sha256, meta.size_bytes)
        ON CONFLICT (sha256) DO NOTHING;
        IF (SELECT size_bytes FROM alpr.evidence_files WHERE sha256 = meta.sha256) <> meta.size_bytes THEN
            RETURN alpr.refuse_call(checked.session, 'register_footage', 'invalid_footage',
                                    'a file with this sha256 and another size is already in the store', params);
        END IF;
        new_footage := nextval('alpr.footage_footage_id_seq');
        -- The camera record is the database's own, named by the registration (never by a caller's value).
        camera := 'FTG-' || new_footage;
        INSERT INTO alpr.cameras (camera_id, name, kind, location, heading_deg)
        VALUES (camera, alpr.clip(meta.label, 200), 'footage', ST_SetSRID(ST_MakePoint(meta.lon, meta.lat), 4326)::geography,
                meta.heading_deg);
        INSERT INTO alpr.footage (footage_id, case_number, sha256, file_name, media_type, size_bytes, duration_s, frame_count,
                                  recorded_start, clock_offset_s, camera_id)
        VALUES (new_footage, (checked.session).case_number, meta.sha256, alpr.clip(meta.file_name, 300),
                alpr.clip(meta.media_type, 80), meta.size_bytes, meta.duration_s, meta.frame_count, meta.recorded_start,
                meta.clock_offset_s, camera)
        RETURNING * INTO existing;
    END IF;
    RETURN alpr.acknowledge(checked.session, 'register_footage', params || jsonb_build_object('footage_id', existing.footage_id),
        format('footage %s registered under case %s', existing.footage_id, existing.case_number),
        jsonb_build_object('footage_id', existing.footage_id, 'camera_id', existing.camera_id,
                           'sealed', (SELECT sealed_at IS NOT NULL FROM alpr.evidence_files WHERE sha256 = existing.sha256),
                           'next_chunk', (SELECT coalesce(max(seq) + 1, 0) FROM alpr.evidence_chunks WHERE sha256 = existing.sha256),
                           'chunk_bytes', (alpr.footage_limits()).max_chunk));
END
$$;

-- A piece of a registered file's content, in order, by the person who registered it. Not audited one by one:
-- the seal records the whole upload.
CREATE OR REPLACE FUNCTION api.upload_footage_chunk(p_access_id uuid, p_footage_id bigint, p_seq integer, p_content bytea)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('footage_id', p_footage_id, 'seq', p_seq, 'bytes', length(p_content));
    checked record;
    registered alpr.footage;
    stored alpr.evidence_files;
    next_seq integer;
    done api.call_result;
BEGIN
    checked := alpr.check_session(p_access_id, 'upload_footage_chunk', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    SELECT * INTO registered FROM alpr.footage WHERE footage_id = p_footage_id AND case_number = (checked.session).case_number;
    SELECT * INTO stored FROM alpr.evidence_files WHERE sha256 = registered.sha256 FOR UPDATE;
    SELECT coalesce(max(seq) + 1, 0) INTO next_seq FROM alpr.evidence_chunks WHERE sha256 = registered.sha256;
    IF registered.footage_id IS NULL OR stored.sealed_at IS NOT NULL OR p_seq IS DISTINCT FROM next_seq
       OR p_content IS NULL OR length(p_content) = 0 OR length(p_content) > (alpr.footage_limits()).max_chunk THEN
        RETURN alpr.refuse_call(checked.session, 'upload_footage_chunk', 'invalid_footage',
            format('chunk %s does not fit footage %s of case %s (next chunk %s, at most %s bytes, not sealed)',
                   p_seq, p_footage_id, (checked.session).case_number, next_seq, (alpr.footage_limits()).max_chunk), params);
    END IF;
    INSERT INTO alpr.evidence_chunks (sha256, seq, content) VALUES (registered.sha256, p_seq, p_content);
    done.outcome := 'granted';
    done.details := jsonb_build_object('next_chunk', p_seq + 1);
    RETURN done;
END
$$;

-- The upload is complete when the database's own sha256 and size of the chunks match the registration.
CREATE OR REPLACE FUNCTION api.seal_footage(p_access_id uuid, p_footage_id bigint)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('footage_id', p_footage_id);
    checked record;
    registered alpr.footage;
    stored alpr.evidence_files;
    digest text;
    total bigint;
BEGIN
    checked := alpr.check_session(p_access_id, 'seal_footage', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    SELECT * INTO registered FROM alpr.footage WHERE footage_id = p_footage_id AND case_number = (checked.session).case_number;
    IF registered.footage_id IS NULL THEN
        RETURN alpr.refuse_call(checked.session, 'seal_footage', 'invalid_footage',
                                format('no footage %s under case %s', p_footage_id, (checked.session).case_number), params);
    END IF;
    SELECT * INTO stored FROM alpr.evidence_files WHERE sha256 = registered.sha256 FOR UPDATE;
    IF stored.sealed_at IS NULL THEN
        SELECT encode(sha256(string_agg(content, ''::bytea ORDER BY seq)), 'hex'), sum(length(content))
          INTO digest, total FROM alpr.evidence_chunks WHERE sha256 = registered.sha256;
        IF digest IS DISTINCT FROM registered.sha256 OR total IS DISTINCT FROM registered.size_bytes THEN
            DELETE FROM alpr.evidence_chunks WHERE sha256 = registered.sha256;  -- start the upload again
            RETURN alpr.refuse_call(checked.session, 'seal_footage', 'invalid_footage',
                format('the uploaded content (%s bytes, sha256 %s) is not the registered file (%s bytes, sha256 %s); '
                       'upload it again', coalesce(total, 0), coalesce(left(digest, 12), '-'), registered.size_bytes,
                       left(registered.sha256, 12)), params);
        END IF;
        UPDATE alpr.evidence_files SET sealed_at = now() WHERE sha256 = registered.sha256;
    END IF;
    RETURN alpr.acknowledge(checked.session, 'seal_footage',
        params || jsonb_build_object('sha256', registered.sha256, 'size_bytes', registered.size_bytes),
        format('footage %s is in the evidence store (sha256 %s)', p_footage_id, left(registered.sha256, 12)),
        jsonb_build_object('footage_id', p_footage_id, 'sha256', registered.sha256));
END
$$;

-- p_reads: [{"plate", "ocr_text", "review": "confirmed"|"corrected", "read_at", "confidence", "state",
--            "char_confidence": [...], "alternatives": [...], "crop_jpeg_base64"[, "lat", "lon"]}, ...]
-- Reads of a sealed footage file of this case only, within its span of time; a read's own lat/lon (a moving
-- camera's GPS sidecar) takes the place of the camera's. A second ingest of the same review returns the first
-- answer; another review of the same footage saves only the reads not saved already.
CREATE OR REPLACE FUNCTION api.ingest_footage_reads(p_access_id uuid, p_footage_id bigint, p_reads jsonb)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb;
    checked record;
    registered alpr.footage;
    camera alpr.cameras;
    problems text[] := '{}';
    item jsonb;
    row_no integer := 0;
    read_plate text;
    crop bytea;
    header record;
    new_image bigint;
    new_read bigint;
    read_time timestamptz;
    span_from timestamptz;
    span_to timestamptz;
    read_ids bigint[] := '{}';
    skipped integer := 0;
    hit_rows jsonb;
    key text;
    earlier alpr.footage_ingests;
    answer jsonb;
    audit_id bigint;
    flags text[] := ARRAY['footage_ingest'];
BEGIN
    params := jsonb_build_object('footage_id', p_footage_id,
                                 'reads', CASE WHEN jsonb_typeof(p_reads) = 'array' THEN jsonb_array_length(p_reads) END,
                                 'plates', (SELECT jsonb_agg(alpr.clip(r ->> 'plate', 20))
                                            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_reads) = 'array'
                                                                           THEN p_reads ELSE '[]' END) r));
    checked := alpr.check_session(p_access_id, 'ingest_footage_reads', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    SELECT f.* INTO registered FROM alpr.footage f JOIN alpr.evidence_files e USING (sha256)
    WHERE f.footage_id = p_footage_id AND f.case_number = (checked.session).case_number AND e.sealed_at IS NOT NULL;
    IF registered.footage_id IS NULL THEN
        RETURN alpr.refuse_call(checked.session, 'ingest_footage_reads', 'invalid_footage',
            format('footage %s is not registered and uploaded under case %s: register the file (register_footage), '
                   'upload and seal it first', coalesce(p_footage_id::text, 'NULL'), (checked.session).case_number), params);
    END IF;
    IF p_reads IS NULL OR jsonb_typeof(p_reads) <> 'array' OR jsonb_array_length(p_reads) = 0 THEN
        RETURN alpr.refuse_call(checked.session, 'ingest_footage_reads', 'invalid_footage', 'no confirmed reads to save', params);
    END IF;
    -- The same review of the same footage again (a retry after a lost connection): the first answer, once more.
    key := registered.sha256 || ':' || encode(sha256(convert_to(p_reads::text, 'UTF8')), 'hex');
    SELECT * INTO earlier FROM alpr.footage_ingests WHERE ingest_key = key;
    IF earlier.ingest_key IS NOT NULL THEN
        RETURN alpr.deliver(checked.session, 'ingest_footage_reads', 'ingest', earlier.answer,
            jsonb_array_length(earlier.answer -> 'read_ids'), params || jsonb_build_object('repeat_of', earlier.audit_id), '{}',
            CASE WHEN jsonb_array_length(earlier.answer -> 'hits') > 0 THEN ARRAY[alpr.hit_warning()] ELSE '{}' END);
    END IF;
    span_from := registered.recorded_start + make_interval(secs => registered.clock_offset_s);
    span_to := span_from + make_interval(secs => registered.duration_s);
    FOR item IN SELECT value FROM jsonb_array_elements(p_reads) LOOP
        row_no := row_no + 1;
        read_plate := alpr.normalize_plate(item ->> 'plate');
        IF read_plate IS NULL OR read_plate !~ '^[A-Z0-9]{2,10}$' THEN
            problems := problems || format('read %s: plate %s is not 2-10 letters or digits', row_no,
                                           quote_literal(alpr.clip(coalesce(item ->> 'plate', ''), 20)));
        END IF;
        -- Visual verification before a read counts (Long Beach 6.3.3.1, Manhattan Beach 462.8).
        IF coalesce(item ->> 'review', '') NOT IN ('confirmed', 'corrected') THEN
            problems := problems || format('read %s: only reads a person confirmed or corrected against the image are saved', row_no);
        END IF;
        IF coalesce(btrim(item ->> 'ocr_text'), '') = '' THEN
            problems := problems || format('read %s: the recognizer''s own text (ocr_text) is kept beside the decision', row_no);
        END IF;
        read_time := CASE WHEN alpr.is_timestamp(item ->> 'read_at') THEN (item ->> 'read_at')::timestamptz END;
        IF read_time IS NULL OR read_time < span_from - interval '1 second' OR read_time > span_to + interval '1 second' THEN
            problems := problems || format('read %s: read time %s is not within the footage (%s to %s, its clock corrected)',
                                           row_no, quote_literal(alpr.clip(coalesce(item ->> 'read_at', ''), 40)),
                                           span_from, span_to);
        END IF;
        IF (item ? 'lat' OR item ? 'lon') AND NOT (CASE
               WHEN coalesce(item ->> 'lat', '') ~ '^-?[0-9]{1,3}(\.[0-9]+)?$' AND coalesce(item ->> 'lon', '') ~ '^-?[0-9]{1,3}(\.[0-9]+)?$'
               THEN (item ->> 'lat')::float8 BETWEEN -90 AND 90 AND (item ->> 'lon')::float8 BETWEEN -180 AND 180
               ELSE false END) THEN
            problems := problems || format('read %s: its position needs a latitude in [-90, 90] and a longitude in [-180, 180]', row_no);
        END IF;
        BEGIN
            header := alpr.image_header(decode(coalesce(item ->> 'crop_jpeg_base64', ''), 'base64'));
        EXCEPTION WHEN invalid_parameter_value OR data_exception THEN
            header := NULL;
        END;
        IF header.media_type IS NULL OR NOT header.width BETWEEN 16 AND 2000 OR NOT header.height BETWEEN 8 AND 1000 THEN
            problems := problems || format('read %s: the crop the person checked must be a JPEG or PNG plate image of '
                                           '16-2000 by 8-1000 pixels', row_no);
        END IF;
    END LOOP;
    IF cardinality(problems) > 0 THEN
        RETURN alpr.refuse_call(checked.session, 'ingest_footage_reads', 'invalid_footage',
            format('nothing saved; %s', array_to_string(problems[1:5], '; ')), params);
    END IF;

    SELECT * INTO camera FROM alpr.cameras WHERE camera_id = registered.camera_id;
    FOR item IN SELECT value FROM jsonb_array_elements(p_reads) LOOP
        read_plate := alpr.normalize_plate(item ->> 'plate');
        read_time := (item ->> 'read_at')::timestamptz;
        -- A read this footage already gave (an earlier review saved it): merged, not stored twice.
        IF EXISTS (SELECT 1 FROM alpr.reads r WHERE r.footage_id = registered.footage_id AND r.plate = read_plate
                   AND r.read_at BETWEEN read_time - interval '1 second' AND read_time + interval '1 second') THEN
            skipped := skipped + 1;
            CONTINUE;
        END IF;
        PERFORM alpr.ensure_partition(read_time::date);
        crop := decode(item ->> 'crop_jpeg_base64', 'base64');
        header := alpr.image_header(crop);
        INSERT INTO alpr.read_images (sha256, kind, media_type, width, height, content)
        VALUES (encode(sha256(crop), 'hex'), 'plate', header.media_type, header.width, header.height, crop)
        ON CONFLICT (sha256) DO UPDATE SET kind = excluded.kind
        RETURNING image_id INTO new_image;
        INSERT INTO alpr.reads (read_at, plate_raw, plate, plate_skeleton, state, location, camera_id, source, confidence,
                                plate_image_id, case_number, verified_by, verified_at, ocr_alternatives, footage_id,
                                review_decision, ocr_text)
        VALUES (read_time, alpr.clip(item ->> 'ocr_text', 20), read_plate, alpr.plate_skeleton(read_plate),
                CASE WHEN upper(item ->> 'state') ~ '^[A-Z]{2}$' THEN upper(item ->> 'state') END,
                CASE WHEN item ? 'lat' THEN ST_SetSRID(ST_MakePoint((item ->> 'lon')::float8, (item ->> 'lat')::float8), 4326)::geography
                     ELSE camera.location END,
                camera.camera_id, 'footage',
                CASE WHEN (item ->> 'confidence') ~ '^[0-9.]+$' THEN least((item ->> 'confidence')::real, 1) END,
                new_image, (checked.session).case_number, session_user, now(),
                jsonb_build_object('char_confidence', item -> 'char_confidence', 'alternatives', item -> 'alternatives'),
                registered.footage_id, item ->> 'review', alpr.clip(item ->> 'ocr_text', 20))
        RETURNING read_id INTO new_read;
        read_ids := read_ids || new_read;
    END LOOP;
    IF cardinality(read_ids) > 0 THEN
        PERFORM alpr.refresh_plates(span_from - interval '1 second', span_to + interval '2 seconds');
        PERFORM alpr.match_hotlists('-infinity', 'infinity', read_ids);
    END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object('read_id', h.read_id, 'plate', r.plate, 'listed_plate', e.plate,
                                                 'match_kind', h.match_kind, 'reason', e.reason, 'list', l.name,
                                                 'warning', alpr.hit_warning())), '[]')
      INTO hit_rows
    FROM alpr.hits h JOIN alpr.reads r ON r.read_id = h.read_id AND r.read_at = h.read_at
    JOIN alpr.hotlist_entries e ON e.entry_id = h.entry_id JOIN alpr.hotlists l ON l.hotlist_id = e.hotlist_id
    WHERE h.read_id = ANY (read_ids);
    answer := jsonb_build_object('read_ids', to_jsonb(read_ids), 'camera_id', camera.camera_id, 'hits', hit_rows,
                                 'footage_id', registered.footage_id, 'merged', skipped);
    IF jsonb_array_length(hit_rows) > 0 THEN
        flags := flags || 'footage_hit'::text;
    END IF;
    audit_id := alpr.write_audit('ingest_footage_reads', 'granted', NULL, (checked.session).access_id,
        (checked.session).case_number, (checked.session).purpose, (checked.session).justification,
        params || jsonb_build_object('sha256', registered.sha256, 'merged', skipped),
        jsonb_build_object('cameras', 1, 'hits', jsonb_array_length(hit_rows)), cardinality(read_ids), flags, '{}');
    INSERT INTO alpr.footage_ingests (ingest_key, footage_id, audit_id, answer)
    VALUES (key, registered.footage_id, audit_id, answer);
    RETURN alpr.park(checked.session, audit_id, 'ingest', 'granted', NULL, NULL, answer, cardinality(read_ids),
                     CASE WHEN jsonb_array_length(hit_rows) > 0 THEN ARRAY[alpr.hit_warning()] ELSE '{}' END);
END
$$;

-- A supervisor takes a copy of registered footage (to run recognition on it again), chunk by chunk; the
-- first chunk's call is audited.
CREATE OR REPLACE FUNCTION api.footage_content(p_footage_id bigint, p_seq integer)
RETURNS TABLE (sha256 text, size_bytes bigint, file_name text, chunks integer, content bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    registered alpr.footage;
BEGIN
    gate := alpr.role_check(ARRAY['supervisor'], 'footage_content', jsonb_build_object('footage_id', p_footage_id));
    IF (gate.refusal).outcome IS NOT NULL THEN
        RAISE EXCEPTION '%', (gate.refusal).message USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO registered FROM alpr.footage WHERE footage_id = p_footage_id;
    IF p_seq = 0 THEN
        PERFORM alpr.write_audit('footage_content', 'granted', NULL, NULL, registered.case_number, NULL, NULL,
                                 jsonb_build_object('footage_id', p_footage_id, 'sha256', registered.sha256), '{}', 0,
                                 '{}', '{}');
    END IF;
    RETURN QUERY SELECT registered.sha256, registered.size_bytes, registered.file_name,
                        (SELECT count(*)::integer FROM alpr.evidence_chunks c WHERE c.sha256 = registered.sha256),
                        (SELECT c.content FROM alpr.evidence_chunks c WHERE c.sha256 = registered.sha256 AND c.seq = p_seq);
END
$$;

REVOKE ALL ON FUNCTION alpr.image_header(bytea), alpr.footage_limits() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.register_footage(uuid, jsonb), api.upload_footage_chunk(uuid, bigint, integer, bytea),
    api.seal_footage(uuid, bigint), api.ingest_footage_reads(uuid, bigint, jsonb) TO workbench_user;
GRANT EXECUTE ON FUNCTION api.footage_content(bigint, integer) TO workbench_supervisor;
