-- Footage ingest: reads an analyst confirmed against their crops, saved under the open case as source
-- 'footage', with their images, in one transaction with the audit row and the hot-list check.
SET LOCAL ROLE alpr_owner;

-- p_footage: {"file_name", "sha256", "lat", "lon", "heading_deg", "label"}
-- p_reads: [{"plate", "ocr_text", "review": "confirmed"|"corrected", "read_at", "confidence",
--            "char_confidence": [...], "alternatives": [...], "crop_jpeg_base64"[, "lat", "lon"]}, ...]
-- A read's own lat/lon (a moving camera's GPS sidecar) takes the place of the footage location.
CREATE OR REPLACE FUNCTION api.ingest_footage_reads(p_access_id uuid, p_footage jsonb, p_reads jsonb)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    policy jsonb := alpr.policy();
    params jsonb;
    checked record;
    problems text[] := '{}';
    item jsonb;
    row_no integer := 0;
    plate text;
    lat double precision;
    lon double precision;
    camera text;
    crop bytea;
    new_image bigint;
    new_read bigint;
    read_time timestamptz;
    read_ids bigint[] := '{}';
    hit_rows jsonb;
BEGIN
    params := jsonb_build_object('footage', p_footage - 'sha256' || jsonb_build_object('sha256', alpr.clip(p_footage ->> 'sha256', 64)),
                                 'reads', CASE WHEN jsonb_typeof(p_reads) = 'array' THEN jsonb_array_length(p_reads) END,
                                 'plates', (SELECT jsonb_agg(alpr.clip(r ->> 'plate', 20))
                                            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_reads) = 'array'
                                                                           THEN p_reads ELSE '[]' END) r));
    checked := alpr.check_session(p_access_id, 'ingest_footage_reads', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    IF p_footage IS NULL OR jsonb_typeof(p_footage) <> 'object' THEN
        RETURN alpr.refuse_call(checked.session, 'ingest_footage_reads', 'invalid_footage', 'describe the footage (file, location)', params);
    END IF;
    BEGIN
        lat := (p_footage ->> 'lat')::double precision;
        lon := (p_footage ->> 'lon')::double precision;
    EXCEPTION WHEN data_exception THEN
        lat := NULL;
    END;
    IF lat IS NULL OR lon IS NULL OR lat NOT BETWEEN -90 AND 90 OR lon NOT BETWEEN -180 AND 180 THEN
        RETURN alpr.refuse_call(checked.session, 'ingest_footage_reads', 'invalid_area',
            'the camera location needs a latitude in [-90, 90] and a longitude in [-180, 180]', params);
    END IF;
    IF p_reads IS NULL OR jsonb_typeof(p_reads) <> 'array' OR jsonb_array_length(p_reads) = 0 THEN
        RETURN alpr.refuse_call(checked.session, 'ingest_footage_reads', 'invalid_footage', 'no confirmed reads to save', params);
    END IF;
    FOR item IN SELECT value FROM jsonb_array_elements(p_reads) LOOP
        row_no := row_no + 1;
        plate := alpr.normalize_plate(item ->> 'plate');
        IF plate IS NULL OR plate !~ '^[A-Z0-9]{2,10}$' THEN
            problems := problems || format('read %s: plate %s is not 2-10 letters or digits', row_no,
                                           quote_literal(alpr.clip(coalesce(item ->> 'plate', ''), 20)));
        END IF;
        -- Visual verification before a read counts (Long Beach 6.3.3.1, Manhattan Beach 462.8).
        IF coalesce(item ->> 'review', '') NOT IN ('confirmed', 'corrected') THEN
            problems := problems || format('read %s: only reads a person confirmed or corrected against the image are saved', row_no);
        END IF;
        IF (CASE WHEN alpr.is_timestamp(item ->> 'read_at') THEN (item ->> 'read_at')::timestamptz > now() + interval '1 day'
                 ELSE true END) THEN
            problems := problems || format('read %s: read time %s is not a date in the past', row_no,
                                           quote_literal(alpr.clip(coalesce(item ->> 'read_at', ''), 40)));
        END IF;
        IF (item ? 'lat' OR item ? 'lon') AND NOT (CASE
               WHEN coalesce(item ->> 'lat', '') ~ '^-?[0-9]{1,3}(\.[0-9]+)?$' AND coalesce(item ->> 'lon', '') ~ '^-?[0-9]{1,3}(\.[0-9]+)?$'
               THEN (item ->> 'lat')::float8 BETWEEN -90 AND 90 AND (item ->> 'lon')::float8 BETWEEN -180 AND 180
               ELSE false END) THEN
            problems := problems || format('read %s: its position needs a latitude in [-90, 90] and a longitude in [-180, 180]', row_no);
        END IF;
        IF coalesce(item ->> 'crop_jpeg_base64', '') = '' THEN
            problems := problems || format('read %s: the crop the person checked is missing', row_no);
        END IF;
    END LOOP;
    IF cardinality(problems) > 0 THEN
        RETURN alpr.refuse_call(checked.session, 'ingest_footage_reads', 'invalid_footage',
            format('nothing saved; %s', array_to_string(problems[1:5], '; ')), params);
    END IF;

    camera := 'FTG-' || left(coalesce(nullif(p_footage ->> 'sha256', ''), md5(p_footage::text)), 10);
    INSERT INTO alpr.cameras (camera_id, name, kind, location, heading_deg)
    VALUES (camera, alpr.clip(coalesce(p_footage ->> 'label', p_footage ->> 'file_name', 'footage'), 200), 'footage',
            ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography,
            CASE WHEN (p_footage ->> 'heading_deg') ~ '^[0-9.]+$' THEN least((p_footage ->> 'heading_deg')::real, 360) END)
    ON CONFLICT (camera_id) DO NOTHING;
    FOR item IN SELECT value FROM jsonb_array_elements(p_reads) LOOP
        plate := alpr.normalize_plate(item ->> 'plate');
        read_time := (item ->> 'read_at')::timestamptz;
        PERFORM alpr.ensure_partition(read_time::date);
        crop := decode(item ->> 'crop_jpeg_base64', 'base64');
        INSERT INTO alpr.read_images (sha256, kind, media_type, content)
        VALUES (encode(sha256(crop), 'hex'), 'plate', 'image/jpeg', crop)
        ON CONFLICT (sha256) DO UPDATE SET kind = excluded.kind
        RETURNING image_id INTO new_image;
        INSERT INTO alpr.reads (read_at, plate_raw, plate, plate_skeleton, state, location, camera_id, source, confidence,
                                plate_image_id, case_number, verified_by, verified_at, ocr_alternatives)
        VALUES (read_time, alpr.clip(coalesce(item ->> 'ocr_text', plate), 20), plate, alpr.plate_skeleton(plate),
                CASE WHEN upper(item ->> 'state') ~ '^[A-Z]{2}$' THEN upper(item ->> 'state') END,
                ST_SetSRID(ST_MakePoint(coalesce((item ->> 'lon')::float8, lon), coalesce((item ->> 'lat')::float8, lat)),
                           4326)::geography, camera, 'footage',
                CASE WHEN (item ->> 'confidence') ~ '^[0-9.]+$' THEN least((item ->> 'confidence')::real, 1) END,
                new_image, (checked.session).case_number, session_user, now(),
                jsonb_build_object('review', item ->> 'review', 'ocr_text', alpr.clip(item ->> 'ocr_text', 20),
                                   'char_confidence', item -> 'char_confidence', 'alternatives', item -> 'alternatives'))
        RETURNING read_id INTO new_read;
        read_ids := read_ids || new_read;
    END LOOP;
    PERFORM alpr.refresh_plates(min(t), max(t) + interval '1 second')
    FROM (SELECT (value ->> 'read_at')::timestamptz AS t FROM jsonb_array_elements(p_reads)) times;
    PERFORM alpr.match_hotlists('-infinity', 'infinity', read_ids);
    SELECT coalesce(jsonb_agg(jsonb_build_object('read_id', h.read_id, 'plate', r.plate, 'listed_plate', e.plate,
                                                 'match_kind', h.match_kind, 'reason', e.reason, 'list', l.name,
                                                 'warning', alpr.hit_warning())), '[]')
      INTO hit_rows
    FROM alpr.hits h JOIN alpr.reads r ON r.read_id = h.read_id AND r.read_at = h.read_at
    JOIN alpr.hotlist_entries e ON e.entry_id = h.entry_id JOIN alpr.hotlists l ON l.hotlist_id = e.hotlist_id
    WHERE h.read_id = ANY (read_ids);
    RETURN alpr.deliver(checked.session, 'ingest_footage_reads', 'ingest',
        jsonb_build_object('read_ids', to_jsonb(read_ids), 'camera_id', camera, 'hits', hit_rows),
        cardinality(read_ids), params, jsonb_build_object('cameras', 1),
        CASE WHEN jsonb_array_length(hit_rows) > 0 THEN ARRAY[alpr.hit_warning()] ELSE '{}' END);
END
$$;
