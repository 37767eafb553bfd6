-- Hot lists: import (administrator), matching reads into hits, hits shown under a case with the
-- verification warning, a person's verification of a hit, a plate registered under a case for
-- follow-up, and cancelling a want found in error. Every call is audited.
SET LOCAL ROLE alpr_owner;

-- What every hit carries (Long Beach 6.3.3.1, Manhattan Beach 462.8, DESIGN.md §3 Verification).
CREATE OR REPLACE FUNCTION alpr.hit_warning() RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT 'verify through CLETS/NCIC and against the image before action'
$$;

-- Entries that still match: not cancelled and not expired.
CREATE OR REPLACE FUNCTION alpr.entry_active(e alpr.hotlist_entries, p_at timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT e.cancelled_at IS NULL AND (e.expires_at IS NULL OR e.expires_at > p_at)
$$;

-- PostgreSQL 15 has no pg_input_is_valid.
CREATE OR REPLACE FUNCTION alpr.is_timestamp(p_text text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM p_text::timestamptz;
    RETURN true;
EXCEPTION WHEN data_exception THEN
    RETURN false;
END
$$;

-- Records hits for reads in a window (or the given reads): exact plate, or same look-alike skeleton.
CREATE OR REPLACE FUNCTION alpr.match_hotlists(p_from timestamptz, p_to timestamptz, p_read_ids bigint[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    added integer;
BEGIN
    INSERT INTO alpr.hits (read_id, read_at, entry_id, match_kind)
    SELECT r.read_id, r.read_at, e.entry_id, CASE WHEN r.plate = e.plate THEN 'exact' ELSE 'lookalike' END
    FROM alpr.hotlist_entries e
    JOIN alpr.reads r ON r.plate_skeleton = e.skeleton
    WHERE alpr.entry_active(e, now())
      AND r.read_at >= p_from AND r.read_at < p_to
      AND (p_read_ids IS NULL OR r.read_id = ANY (p_read_ids))
      AND (e.state IS NULL OR r.state IS NULL OR r.state = e.state)
      AND r.logically_deleted_at IS NULL
    ON CONFLICT (read_id, entry_id) DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN added;
END
$$;

-- p_entries: [{"plate": "...", "state": "CA", "reason": "...", "source": "...", "expires_at": "..."}, ...]
-- All or nothing: one bad row refuses the whole file, naming the rows to fix.
CREATE OR REPLACE FUNCTION api.hotlist_import(p_name text, p_source text, p_entries jsonb)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('name', alpr.clip(p_name, 120), 'source', alpr.clip(p_source, 120),
                                       'entries', CASE WHEN jsonb_typeof(p_entries) = 'array' THEN jsonb_array_length(p_entries) END);
    problems text[] := '{}';
    entry jsonb;
    row_no integer := 0;
    plate text;
    list_id integer;
    added integer;
BEGIN
    gate := alpr.role_check(ARRAY['administrator'], 'hotlist_import', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    IF coalesce(btrim(p_name), '') = '' OR coalesce(btrim(p_source), '') = '' THEN
        RETURN alpr.admin_result('hotlist_import', params, false, 'a hot list needs a name and a source');
    END IF;
    IF p_entries IS NULL OR jsonb_typeof(p_entries) <> 'array' OR jsonb_array_length(p_entries) = 0 THEN
        RETURN alpr.admin_result('hotlist_import', params, false, 'the hot list has no entries');
    END IF;
    FOR entry IN SELECT value FROM jsonb_array_elements(p_entries) LOOP
        row_no := row_no + 1;
        plate := alpr.normalize_plate(entry ->> 'plate');
        IF plate IS NULL OR plate !~ '^[A-Z0-9]{2,10}$' THEN
            problems := problems || format('row %s: plate %s is not 2-10 letters or digits', row_no,
                                           quote_literal(alpr.clip(coalesce(entry ->> 'plate', ''), 30)));
        END IF;
        IF entry ->> 'state' IS NOT NULL AND upper(entry ->> 'state') !~ '^[A-Z]{2}$' THEN
            problems := problems || format('row %s: state %s is not a two-letter code', row_no,
                                           quote_literal(alpr.clip(entry ->> 'state', 10)));
        END IF;
        IF coalesce(btrim(entry ->> 'reason'), '') = '' THEN
            problems := problems || format('row %s: a reason is required', row_no);
        END IF;
        IF entry ->> 'expires_at' IS NOT NULL AND NOT alpr.is_timestamp(entry ->> 'expires_at') THEN
            problems := problems || format('row %s: expiry %s is not a date', row_no,
                                           quote_literal(alpr.clip(entry ->> 'expires_at', 40)));
        END IF;
    END LOOP;
    IF cardinality(problems) > 0 THEN
        RETURN alpr.admin_result('hotlist_import', params, false,
            format('nothing imported; fix %s row(s): %s', cardinality(problems), array_to_string(problems[1:5], '; ')));
    END IF;
    INSERT INTO alpr.hotlists (name, source) VALUES (p_name, p_source) ON CONFLICT (name) DO NOTHING;
    SELECT hotlist_id INTO list_id FROM alpr.hotlists WHERE name = p_name;
    INSERT INTO alpr.hotlist_entries (hotlist_id, plate, skeleton, state, reason, source, expires_at)
    SELECT list_id, alpr.normalize_plate(e ->> 'plate'), alpr.plate_skeleton(alpr.normalize_plate(e ->> 'plate')),
           upper(e ->> 'state'), btrim(e ->> 'reason'), coalesce(nullif(btrim(e ->> 'source'), ''), p_source),
           (e ->> 'expires_at')::timestamptz
    FROM jsonb_array_elements(p_entries) e
    WHERE NOT EXISTS (SELECT 1 FROM alpr.hotlist_entries x
                      WHERE x.hotlist_id = list_id AND x.plate = alpr.normalize_plate(e ->> 'plate')
                        AND x.cancelled_at IS NULL);
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN alpr.admin_result('hotlist_import', params, true,
        format('%s entries added to %s (%s already on it)', added, p_name, row_no - added),
        jsonb_build_object('added', added, 'already_listed', row_no - added, 'hotlist_id', list_id));
END
$$;

CREATE OR REPLACE FUNCTION api.hotlist_match(p_from timestamptz, p_to timestamptz)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('from', p_from, 'to', p_to);
    added integer;
BEGIN
    gate := alpr.role_check(ARRAY['administrator'], 'hotlist_match', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    IF p_from IS NULL OR p_to IS NULL OR p_from >= p_to THEN
        RETURN alpr.admin_result('hotlist_match', params, false, 'give a window whose start is before its end');
    END IF;
    added := alpr.match_hotlists(p_from, p_to);
    RETURN alpr.admin_deferred('hotlist_match', params, format('%s new hits; %s', added, alpr.hit_warning()),
                               jsonb_build_object('hits', added));
END
$$;

CREATE OR REPLACE FUNCTION api.hotlist_cancel(p_entry_id bigint, p_reason text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('entry_id', p_entry_id, 'reason', alpr.clip(p_reason, 300));
    changed integer;
BEGIN
    gate := alpr.role_check(ARRAY['administrator'], 'hotlist_cancel', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    IF length(btrim(coalesce(p_reason, ''))) < 10 THEN
        RETURN alpr.admin_result('hotlist_cancel', params, false, 'say why the entry is cancelled (at least 10 characters)');
    END IF;
    UPDATE alpr.hotlist_entries SET cancelled_at = now(), cancelled_by = session_user, cancel_reason = btrim(p_reason)
    WHERE entry_id = p_entry_id AND cancelled_at IS NULL;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 THEN
        RETURN alpr.admin_result('hotlist_cancel', params, false, format('no active hot-list entry %s', p_entry_id));
    END IF;
    RETURN alpr.admin_result('hotlist_cancel', params, true, format('entry %s cancelled', p_entry_id));
END
$$;

-- Hits on reads in a window, under an open case, each with the verification warning.
CREATE OR REPLACE FUNCTION api.hits(p_access_id uuid, p_from timestamptz, p_to timestamptz)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    policy jsonb := alpr.policy();
    params jsonb := jsonb_build_object('from', p_from, 'to', p_to);
    checked record;
    problem text;
    payload jsonb;
    row_total integer;
    row_cap integer := (policy -> 'search' ->> 'max_result_rows')::int;
    read_ids bigint[];
    plates_given text[];
    capped jsonb;
BEGIN
    checked := alpr.check_session(p_access_id, 'hits', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    problem := alpr.window_error(p_from, p_to, make_interval(days => (policy -> 'search' ->> 'max_window_days')::int));
    IF problem IS NOT NULL THEN
        RETURN alpr.refuse_call(checked.session, 'hits', 'invalid_window', problem, params);
    END IF;
    WITH found AS (
        SELECT r, h, e, l.name AS list_name, row_number() OVER (ORDER BY r.read_at DESC, h.hit_id) AS n
        FROM alpr.hits h
        JOIN alpr.reads r ON r.read_id = h.read_id AND r.read_at = h.read_at
        JOIN alpr.hotlist_entries e ON e.entry_id = h.entry_id
        JOIN alpr.hotlists l ON l.hotlist_id = e.hotlist_id
        WHERE h.read_at >= p_from AND h.read_at < p_to AND r.logically_deleted_at IS NULL
        ORDER BY r.read_at DESC, h.hit_id LIMIT row_cap + 1)
    SELECT coalesce(jsonb_agg(alpr.read_json(r) || jsonb_build_object(
               'hit_id', (h).hit_id, 'match_kind', (h).match_kind, 'listed_plate', (e).plate, 'list', list_name,
               'reason', (e).reason, 'list_source', (e).source, 'hit_verified_at', (h).verified_at,
               'hit_verified_by', (h).verified_by, 'verification_note', (h).verification_note,
               'warning', alpr.hit_warning()) ORDER BY n) FILTER (WHERE n <= row_cap), '[]'),
           count(*) FILTER (WHERE n <= row_cap),
           coalesce(array_agg((r).read_id) FILTER (WHERE n <= row_cap), '{}'),
           coalesce(array_agg(DISTINCT (r).plate) FILTER (WHERE n <= row_cap), '{}'),
           CASE WHEN count(*) > row_cap THEN jsonb_build_object('shown', row_cap, 'order', 'newest first',
                                                               'narrow', 'a shorter window') END
      INTO payload, row_total, read_ids, plates_given, capped
    FROM found;
    RETURN alpr.deliver(checked.session, 'hits', 'reads', payload, row_total, params,
        jsonb_build_object('window_hours', round(extract(epoch FROM p_to - p_from)::numeric / 3600, 2)),
        ARRAY[alpr.hit_warning()], '{}', read_ids, plates_given, capped);
END
$$;

-- A person's check of a hit: confirmed (image matches, CLETS/NCIC checked) or not, with a note.
CREATE OR REPLACE FUNCTION api.verify_hit(p_access_id uuid, p_hit_id bigint, p_confirmed boolean, p_note text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('hit_id', p_hit_id, 'confirmed', p_confirmed, 'note', alpr.clip(p_note, 500));
    checked record;
    changed integer;
BEGIN
    checked := alpr.check_session(p_access_id, 'verify_hit', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    IF p_confirmed IS NULL OR length(btrim(coalesce(p_note, ''))) < 10 THEN
        RETURN alpr.refuse_call(checked.session, 'verify_hit', 'invalid_verification',
            'say whether the hit is confirmed and note what was checked (image, CLETS/NCIC), at least 10 characters', params);
    END IF;
    UPDATE alpr.hits SET verified_at = now(), verified_by = session_user,
        verification_note = CASE WHEN p_confirmed THEN 'confirmed: ' ELSE 'not confirmed: ' END || btrim(p_note)
    WHERE hit_id = p_hit_id;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 THEN
        RETURN alpr.refuse_deferred(checked.session, 'verify_hit', 'unknown_hit', format('no hit %s', p_hit_id), params);
    END IF;
    RETURN alpr.acknowledge(checked.session, 'verify_hit', params, format('hit %s recorded as %s', p_hit_id,
                            CASE WHEN p_confirmed THEN 'confirmed' ELSE 'not confirmed' END),
                            jsonb_build_object('hit_id', p_hit_id, 'confirmed', p_confirmed));
END
$$;

-- A plate registered by a user under the open case for follow-up: future reads of it become hits.
CREATE OR REPLACE FUNCTION api.register_plate(p_access_id uuid, p_plate text, p_state text, p_reason text,
                                              p_expires_at timestamptz)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('plate', alpr.clip(p_plate, 40), 'state', alpr.clip(p_state, 10),
                                       'reason', alpr.clip(p_reason, 300), 'expires_at', p_expires_at);
    checked record;
    wanted text := alpr.normalize_plate(p_plate);
    list_id integer;
    new_entry bigint;
BEGIN
    checked := alpr.check_session(p_access_id, 'register_plate', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    IF wanted IS NULL OR wanted !~ '^[A-Z0-9]{2,10}$' THEN
        RETURN alpr.refuse_call(checked.session, 'register_plate', 'invalid_plate',
            format('plate %s must be 2 to 10 letters or digits', quote_literal(alpr.clip(coalesce(p_plate, ''), 40))), params);
    END IF;
    IF p_state IS NOT NULL AND upper(p_state) !~ '^[A-Z]{2}$' THEN
        RETURN alpr.refuse_call(checked.session, 'register_plate', 'invalid_plate', 'state must be a two-letter code', params);
    END IF;
    IF length(btrim(coalesce(p_reason, ''))) < 10 THEN
        RETURN alpr.refuse_call(checked.session, 'register_plate', 'invalid_justification',
            'say why this plate is of interest to the case (at least 10 characters)', params);
    END IF;
    IF p_expires_at IS NULL OR p_expires_at <= now() OR p_expires_at > now() + interval '1 year' THEN
        RETURN alpr.refuse_call(checked.session, 'register_plate', 'invalid_window',
            'a follow-up registration needs an expiry within the next year', params);
    END IF;
    INSERT INTO alpr.hotlists (name, source) VALUES ('Case follow-up', 'registered by users under a case')
    ON CONFLICT (name) DO NOTHING;
    SELECT hotlist_id INTO list_id FROM alpr.hotlists WHERE name = 'Case follow-up';
    INSERT INTO alpr.hotlist_entries (hotlist_id, plate, skeleton, state, reason, source, expires_at, case_number, registered_by)
    VALUES (list_id, wanted, alpr.plate_skeleton(wanted), upper(p_state), btrim(p_reason), 'case follow-up',
            p_expires_at, (checked.session).case_number, session_user)
    RETURNING entry_id INTO new_entry;
    RETURN alpr.acknowledge(checked.session, 'register_plate', params || jsonb_build_object('entry_id', new_entry),
        format('%s registered under case %s until %s (entry %s)', wanted, (checked.session).case_number,
               to_char(p_expires_at, 'YYYY-MM-DD'), new_entry),
        jsonb_build_object('entry_id', new_entry, 'plate', wanted, 'expires_at', p_expires_at));
END
$$;
