-- Searches: partial plate, canvass and common vehicles, sightings, images, exports. All audited.
SET LOCAL ROLE alpr_owner;

-- Pattern language (workbench/plates.py has the same parser): A-Z 0-9 literal, ? one unknown,
-- * any run, [8B] one of a set (known when its members are look-alikes); spaces and dashes ignored. Tokens hold only A-Z0-9?*[ so a regex
-- built from them can carry no metacharacter the user typed.
CREATE OR REPLACE FUNCTION alpr.parse_pattern(p_pattern text, OUT tokens text[], OUT known integer, OUT error text)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    source text := upper(coalesce(p_pattern, ''));
    position integer := 1;
    ch text;
    closing integer;
    members text;
BEGIN
    tokens := '{}';
    known := 0;
    IF length(source) > 40 THEN
        error := format('pattern is %s characters long; at most 40', length(source));
        RETURN;
    END IF;
    WHILE position <= length(source) LOOP
        ch := substr(source, position, 1);
        IF ch IN (' ', '-') THEN
            NULL;
        ELSIF ch ~ '^[A-Z0-9]$' THEN
            tokens := tokens || ch;
            known := known + 1;
        ELSIF ch = '?' THEN
            tokens := tokens || ch;
        ELSIF ch = '*' THEN
            IF coalesce(tokens[array_length(tokens, 1)], '') <> '*' THEN
                tokens := tokens || ch;
            END IF;
        ELSIF ch = '[' THEN
            closing := strpos(substr(source, position + 1), ']');
            IF closing = 0 THEN
                error := format('the set opened at position %s has no closing ]', position);
                RETURN;
            END IF;
            members := substr(source, position + 1, closing - 1);
            IF members !~ '^[A-Z0-9]+$' THEN
                error := format('the set at position %s must list letters or digits only, like [8B]', position);
                RETURN;
            END IF;
            tokens := tokens || ('[' || members);
            -- a set counts as known only within one look-alike group ([8B] yes, [0-9] no): breadth is
            -- judged by what a pattern selects, not by how it is written
            IF length(translate(alpr.plate_skeleton(members), left(alpr.plate_skeleton(members), 1), '')) = 0 THEN
                known := known + 1;
            END IF;
            position := position + closing;
        ELSE
            error := format('character %s at position %s is not allowed; use A-Z, 0-9, ?, * or [..]',
                            quote_literal(ch), position);
            RETURN;
        END IF;
        position := position + 1;
    END LOOP;
    IF coalesce(array_length(tokens, 1), 0) = 0 THEN
        error := 'the pattern is empty';
    ELSIF known = 0 THEN
        error := 'the pattern has no known character';
    ELSIF (SELECT count(*) FROM unnest(tokens) t WHERE t <> '*') > 10 THEN
        error := 'the pattern has more than 10 character positions; plates have at most 10';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION alpr.pattern_regex(p_tokens text[], p_lookalike boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT '^' || string_agg(CASE
        WHEN t = '?' THEN '.'
        WHEN t = '*' THEN '.*'
        WHEN left(t, 1) = '[' THEN '[' || CASE WHEN p_lookalike THEN alpr.plate_skeleton(substr(t, 2)) ELSE substr(t, 2) END || ']'
        ELSE CASE WHEN p_lookalike THEN alpr.plate_skeleton(t) ELSE t END END, '' ORDER BY n) || '$'
    FROM unnest(p_tokens) WITH ORDINALITY AS x(t, n)
$$;

-- Weighted edit distance of a plate to a pattern, in hundredths: a mistake (substitution,
-- insertion, deletion) costs 100, a look-alike substitution 1 (when look-alike mode is on).
CREATE OR REPLACE FUNCTION alpr.pattern_cost(p_tokens text[], p_plate text, p_lookalike boolean) RETURNS integer
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    n integer := array_length(p_tokens, 1);
    m integer := length(p_plate);
    width integer := m + 1;
    d integer[];
    i integer;
    j integer;
    token text;
    ch text;
    step integer;
BEGIN
    d := array_fill(0, ARRAY[(n + 1) * width]);
    FOR j IN 1..m LOOP
        d[j + 1] := j * 100;
    END LOOP;
    FOR i IN 1..n LOOP
        token := p_tokens[i];
        IF token = '*' THEN
            d[i * width + 1] := d[(i - 1) * width + 1];
            FOR j IN 1..m LOOP
                d[i * width + j + 1] := least(d[(i - 1) * width + j + 1], d[i * width + j]);
            END LOOP;
        ELSE
            d[i * width + 1] := d[(i - 1) * width + 1] + 100;
            FOR j IN 1..m LOOP
                ch := substr(p_plate, j, 1);
                IF token = '?' OR ch = token OR (left(token, 1) = '[' AND strpos(substr(token, 2), ch) > 0) THEN
                    step := 0;
                ELSIF p_lookalike AND strpos(alpr.plate_skeleton(ltrim(token, '[')), alpr.plate_skeleton(ch)) > 0 THEN
                    step := 1;
                ELSE
                    step := 100;
                END IF;
                d[i * width + j + 1] := least(d[(i - 1) * width + j] + step,
                                              d[(i - 1) * width + j + 1] + 100,
                                              d[i * width + j] + 100);
            END LOOP;
        END IF;
    END LOOP;
    RETURN d[n * width + m + 1];
END
$$;

-- Validated time window; NULL error when fine.
CREATE OR REPLACE FUNCTION alpr.window_error(p_from timestamptz, p_to timestamptz, p_max interval) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_from IS NULL OR p_to IS NULL THEN 'a time window with both a start and an end is required'
        WHEN p_from IN ('-infinity', 'infinity') OR p_to IN ('-infinity', 'infinity') THEN 'the time window must be bounded'
        WHEN p_from >= p_to THEN format('the time window is reversed or empty: start %s is not before end %s', p_from, p_to)
        WHEN p_to - p_from > p_max THEN format('the time window of %s is longer than the %s this policy allows', p_to - p_from, p_max)
    END
$$;

-- The plate and window checks every one-plate call makes; the refusal (audited) or NULL.
CREATE OR REPLACE FUNCTION alpr.plate_window_refusal(session alpr.access_sessions, p_function text, p_plate text,
                                                     p_typed text, p_from timestamptz, p_to timestamptz,
                                                     p_max interval, p_parameters jsonb) RETURNS api.call_result
LANGUAGE plpgsql AS $$
DECLARE
    problem text;
BEGIN
    IF p_plate IS NULL OR p_plate !~ '^[A-Z0-9]{2,10}$' THEN
        RETURN alpr.refuse_call(session, p_function, 'invalid_plate',
            format('plate %s must be 2 to 10 letters or digits', quote_literal(alpr.clip(coalesce(p_typed, ''), 40))),
            p_parameters);
    END IF;
    problem := alpr.window_error(p_from, p_to, p_max);
    IF problem IS NOT NULL THEN
        RETURN alpr.refuse_call(session, p_function, 'invalid_window', problem, p_parameters);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION alpr.point_error(p_lat double precision, p_lon double precision) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_lat IS NULL OR p_lon IS NULL THEN 'latitude and longitude are required'
        WHEN p_lat = 'NaN' OR p_lon = 'NaN' THEN 'latitude and longitude must be numbers'
        WHEN p_lat NOT BETWEEN -90 AND 90 AND p_lon BETWEEN -90 AND 90 AND p_lat BETWEEN -180 AND 180 THEN
            format('latitude %s is out of range [-90, 90]; latitude and longitude look swapped', p_lat)
        WHEN p_lat NOT BETWEEN -90 AND 90 THEN format('latitude %s is out of range [-90, 90]', p_lat)
        WHEN p_lon NOT BETWEEN -180 AND 180 THEN format('longitude %s is out of range [-180, 180]', p_lon)
    END
$$;

-- An area is {"type":"circle","lat":..,"lon":..,"radius_m":..} or {"type":"polygon","coordinates":[[lon,lat],...]}.
CREATE OR REPLACE FUNCTION alpr.parse_area(p_area jsonb, p_max_radius double precision,
                                           OUT area geography, OUT center geography, OUT radius_m double precision,
                                           OUT area_km2 double precision, OUT error text, OUT warning text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    policy jsonb := alpr.policy();
    bbox jsonb := policy -> 'agency' -> 'jurisdiction_bbox';
    ring geometry;
    lat double precision;
    lon double precision;
BEGIN
    IF p_area IS NULL OR p_area = 'null' THEN
        RETURN;
    END IF;
    BEGIN
        IF p_area ->> 'type' = 'circle' THEN
            lat := (p_area ->> 'lat')::double precision;
            lon := (p_area ->> 'lon')::double precision;
            radius_m := (p_area ->> 'radius_m')::double precision;
            error := alpr.point_error(lat, lon);
            IF error IS NOT NULL THEN RETURN; END IF;
            IF radius_m IS NULL OR radius_m <= 0 OR radius_m = 'NaN' THEN
                error := format('radius must be a positive number of metres, got %s', coalesce(radius_m::text, 'nothing'));
                RETURN;
            END IF;
            IF radius_m > p_max_radius THEN
                error := format('radius %s m is above the %s m this policy allows', radius_m, p_max_radius);
                RETURN;
            END IF;
            center := ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography;
            area := ST_Buffer(center, radius_m);
            area_km2 := pi() * radius_m ^ 2 / 1e6;
        ELSIF p_area ->> 'type' = 'polygon' THEN
            IF jsonb_typeof(p_area -> 'coordinates') <> 'array' OR jsonb_array_length(p_area -> 'coordinates') < 3 THEN
                error := 'a polygon needs at least 3 [lon, lat] corners';
                RETURN;
            END IF;
            IF jsonb_array_length(p_area -> 'coordinates') > 500 THEN
                error := 'a polygon may have at most 500 corners';
                RETURN;
            END IF;
            SELECT alpr.point_error(min((c ->> 1)::float8), min((c ->> 0)::float8)),
                   alpr.point_error(max((c ->> 1)::float8), max((c ->> 0)::float8))
              INTO error, warning FROM jsonb_array_elements(p_area -> 'coordinates') c;
            error := coalesce(error, warning);
            warning := NULL;
            IF error IS NOT NULL THEN RETURN; END IF;
            SELECT ST_MakeLine(array_agg(ST_MakePoint((c ->> 0)::float8, (c ->> 1)::float8) ORDER BY n))
              INTO ring FROM jsonb_array_elements(p_area -> 'coordinates') WITH ORDINALITY AS x(c, n);
            IF NOT ST_Equals(ST_StartPoint(ring), ST_EndPoint(ring)) THEN
                ring := ST_AddPoint(ring, ST_StartPoint(ring));
            END IF;
            ring := ST_SetSRID(ST_MakePolygon(ring), 4326);
            IF NOT ST_IsValid(ring) THEN
                error := format('the polygon is not valid: %s', ST_IsValidReason(ring));
                RETURN;
            END IF;
            area := ring::geography;
            center := ST_Centroid(ring)::geography;
            area_km2 := ST_Area(area) / 1e6;
            radius_m := NULL;
            IF area_km2 > pi() * p_max_radius ^ 2 / 1e6 THEN
                error := format('the polygon covers %s km2, more than a circle of the %s m this policy allows',
                                round(area_km2::numeric, 2), p_max_radius);
                RETURN;
            END IF;
        ELSE
            error := 'an area must be {"type": "circle", ...} or {"type": "polygon", ...}';
            RETURN;
        END IF;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range OR invalid_parameter_value
                   OR data_exception THEN
        error := format('the area is malformed: %s', SQLERRM);
        RETURN;
    END;
    IF NOT ST_Intersects(center::geometry, ST_MakeEnvelope((bbox ->> 0)::float8, (bbox ->> 1)::float8,
                                                            (bbox ->> 2)::float8, (bbox ->> 3)::float8, 4326)) THEN
        warning := format('the point %s is outside the %s jurisdiction (in the ocean or another city?)',
                          ST_AsText(center), policy -> 'agency' ->> 'name');
    END IF;
END
$$;

-- Whether a point lies in a parsed area: a circle by the true geodesic distance (as canvass tests it; the
-- buffered polygon's corners cut reads just inside the radius), a polygon by intersection; no area, yes.
CREATE OR REPLACE FUNCTION alpr.in_area(p_location geography, p_area geography, p_center geography,
                                        p_radius_m double precision) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_area IS NULL THEN true
                WHEN p_radius_m IS NOT NULL THEN ST_DWithin(p_location, p_center, p_radius_m, true)
                ELSE ST_Intersects(p_location, p_area) END
$$;

-- Filters as the store keeps codes: states upper case, sources lower case (make and colour match ignoring case).
CREATE OR REPLACE FUNCTION alpr.normalized_filters(p_filters jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(p_filters) <> 'object' THEN p_filters ELSE p_filters
        || CASE WHEN jsonb_typeof(p_filters -> 'states') = 'array'
                THEN jsonb_build_object('states', (SELECT coalesce(jsonb_agg(upper(btrim(v))), '[]')
                                                    FROM jsonb_array_elements_text(p_filters -> 'states') v))
                ELSE '{}' END
        || CASE WHEN jsonb_typeof(p_filters -> 'sources') = 'array'
                THEN jsonb_build_object('sources', (SELECT coalesce(jsonb_agg(lower(btrim(v))), '[]')
                                                     FROM jsonb_array_elements_text(p_filters -> 'sources') v))
                ELSE '{}' END END
$$;

CREATE OR REPLACE FUNCTION alpr.read_json(r alpr.reads) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'read_id', r.read_id, 'read_at', r.read_at, 'plate', r.plate, 'plate_raw', r.plate_raw,
        'state', r.state, 'lat', ST_Y(r.location::geometry), 'lon', ST_X(r.location::geometry),
        'camera_id', r.camera_id, 'source', r.source, 'confidence', r.confidence,
        'has_image', r.plate_image_id IS NOT NULL, 'vehicle_make', r.vehicle_make,
        'vehicle_color', r.vehicle_color, 'verified', r.verified_at IS NOT NULL,
        'logically_deleted', r.logically_deleted_at IS NOT NULL)
$$;

-- Filters: {"cameras": [...], "states": [...], "sources": [...], "make": "...", "color": "..."}.
CREATE OR REPLACE FUNCTION alpr.filter_error(p_filters jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    unknown text;
    key text;
BEGIN
    IF p_filters IS NULL OR p_filters = '{}' THEN RETURN NULL; END IF;
    IF jsonb_typeof(p_filters) <> 'object' THEN RETURN 'filters must be an object'; END IF;
    FOR key IN SELECT jsonb_object_keys(p_filters) LOOP
        IF key NOT IN ('cameras', 'states', 'sources', 'make', 'color') THEN
            RETURN format('unknown filter %s; known: cameras, states, sources, make, color', quote_literal(key));
        END IF;
        IF key IN ('cameras', 'states', 'sources') AND jsonb_typeof(p_filters -> key) <> 'array' THEN
            RETURN format('filter %s must be a list', key);
        END IF;
    END LOOP;
    SELECT string_agg(quote_literal(c), ', ') INTO unknown
    FROM jsonb_array_elements_text(coalesce(p_filters -> 'cameras', '[]')) c
    WHERE NOT EXISTS (SELECT 1 FROM alpr.cameras WHERE camera_id = c);
    IF unknown IS NOT NULL THEN RETURN format('unknown camera(s) %s', unknown); END IF;
    SELECT string_agg(quote_literal(s), ', ') INTO unknown
    FROM jsonb_array_elements_text(coalesce(p_filters -> 'sources', '[]')) s
    WHERE s NOT IN ('fixed', 'mobile', 'footage', 'commercial', 'shared');
    IF unknown IS NOT NULL THEN RETURN format('unknown source(s) %s', unknown); END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION alpr.passes_filters(r alpr.reads, p_filters jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (NOT p_filters ? 'cameras' OR p_filters -> 'cameras' ? r.camera_id)
       AND (NOT p_filters ? 'states' OR p_filters -> 'states' ? r.state::text)
       AND (NOT p_filters ? 'sources' OR p_filters -> 'sources' ? r.source)
       AND (NOT p_filters ? 'make' OR lower(r.vehicle_make) = lower(p_filters ->> 'make'))
       AND (NOT p_filters ? 'color' OR lower(r.vehicle_color) = lower(p_filters ->> 'color'))
$$;

-- Reads in answer order as what a delivery needs: the rows (at most p_cap), their count, cameras, read ids
-- and distinct plates (for the budget), and whether the cap cut them ('capped', total filled by the caller).
CREATE OR REPLACE FUNCTION alpr.reads_answer(p_reads alpr.reads[], p_cap integer, OUT payload jsonb,
                                             OUT row_total integer, OUT cameras integer, OUT read_ids bigint[],
                                             OUT plates text[], OUT capped jsonb)
LANGUAGE sql STABLE AS $$
    WITH numbered AS (SELECT r, row_number() OVER () AS n FROM unnest(coalesce(p_reads, '{}')) AS r)
    SELECT coalesce(jsonb_agg(alpr.read_json(r) ORDER BY n) FILTER (WHERE n <= p_cap), '[]'),
           (count(*) FILTER (WHERE n <= p_cap))::integer, (count(DISTINCT (r).camera_id) FILTER (WHERE n <= p_cap))::integer,
           coalesce(array_agg((r).read_id ORDER BY n) FILTER (WHERE n <= p_cap), '{}'),
           coalesce(array_agg(DISTINCT (r).plate) FILTER (WHERE n <= p_cap), '{}'),
           CASE WHEN count(*) > p_cap THEN jsonb_build_object('shown', p_cap) END
    FROM numbered
$$;

CREATE OR REPLACE FUNCTION api.search_plates(p_access_id uuid, p_pattern text, p_from timestamptz, p_to timestamptz,
                                             p_lookalike boolean DEFAULT false, p_max_mistakes integer DEFAULT 0,
                                             p_area jsonb DEFAULT NULL, p_filters jsonb DEFAULT '{}')
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
SET jit = off  -- these index lookups take milliseconds; JIT compiling them took longer (benchmarks/search.py)
AS $$
DECLARE
    policy jsonb := alpr.policy();
    search jsonb := policy -> 'search';
    params jsonb;
    checked record;
    parsed record;
    parsed_area record;
    problem text;
    regex text;
    positions integer;
    placeholder_count integer;
    skeleton_probe text;
    like_pattern text;
    payload jsonb;
    row_total integer;
    cameras_touched integer;
    filters jsonb := alpr.normalized_filters(coalesce(p_filters, '{}'));
    gate record;
    matched_count integer;
    breadth_approval integer;
    row_cap integer := (search ->> 'max_result_rows')::int;
    read_ids bigint[];
    plates_given text[];
    capped jsonb;
BEGIN
    params := jsonb_build_object('pattern', alpr.clip(p_pattern, 100), 'from', p_from, 'to', p_to,
                                 'lookalike', p_lookalike, 'max_mistakes', p_max_mistakes,
                                 'area', p_area, 'filters', filters);
    checked := alpr.check_session(p_access_id, 'search_plates', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;

    parsed := alpr.parse_pattern(p_pattern);
    problem := parsed.error;
    IF problem IS NULL AND (p_max_mistakes IS NULL OR p_max_mistakes NOT BETWEEN 0 AND 2) THEN
        problem := format('mistakes must be 0, 1 or 2, got %s', coalesce(p_max_mistakes::text, 'nothing'));
    END IF;
    IF problem IS NULL AND p_max_mistakes > 0 AND '*' = ANY (parsed.tokens) THEN
        problem := '* cannot be combined with mistakes; write one ? for each unknown character instead';
    END IF;
    IF problem IS NOT NULL THEN
        RETURN alpr.refuse_call(checked.session, 'search_plates', 'invalid_pattern', problem, params);
    END IF;
    problem := alpr.window_error(p_from, p_to, make_interval(days => (search ->> 'max_window_days')::int));
    IF problem IS NOT NULL THEN
        RETURN alpr.refuse_call(checked.session, 'search_plates', 'invalid_window', problem, params);
    END IF;
    parsed_area := alpr.parse_area(p_area, 1e9);
    IF parsed_area.error IS NOT NULL THEN
        RETURN alpr.refuse_call(checked.session, 'search_plates', 'invalid_area', parsed_area.error, params);
    END IF;
    IF parsed.known < (search ->> 'min_known_characters')::int AND parsed_area.area IS NULL THEN
        RETURN alpr.refuse_call(checked.session, 'search_plates', 'pattern_too_broad',
            format('a pattern with fewer than %s known characters needs an area as well as a time window',
                   search ->> 'min_known_characters'), params);
    END IF;
    problem := alpr.filter_error(filters);
    IF problem IS NOT NULL THEN
        RETURN alpr.refuse_call(checked.session, 'search_plates', 'invalid_filter', problem, params);
    END IF;
    -- A whole plate searched exactly is one vehicle's history (as plate_history): only partial patterns
    -- over a long window sweep many vehicles, so only they meet the window threshold.
    gate := alpr.scope_gate(checked.session, 'search_plates', parsed_area.area_km2,
        CASE WHEN p_max_mistakes = 0 AND NOT coalesce(p_lookalike, false)
                  AND NOT EXISTS (SELECT 1 FROM unnest(parsed.tokens) t WHERE t IN ('?', '*') OR left(t, 1) = '[')
             THEN NULL ELSE round(extract(epoch FROM p_to - p_from)::numeric / 3600, 2) END,
        ARRAY[parsed_area.area], params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;

    positions := (SELECT count(*) FROM unnest(parsed.tokens) t WHERE t <> '*');
    CREATE TEMP TABLE IF NOT EXISTS pg_temp.matched_plates (plate text PRIMARY KEY, cost integer) ON COMMIT DROP;
    TRUNCATE pg_temp.matched_plates;
    IF p_max_mistakes = 0 THEN
        regex := alpr.pattern_regex(parsed.tokens, p_lookalike);
        -- LIKE first (C-speed, and it needs no trigram) so the regex runs only on the few survivors:
        -- a pattern like ?1?2?3? has no trigram for the index and would otherwise regex every plate.
        SELECT string_agg(CASE WHEN t = '*' THEN '%' WHEN t = '?' OR left(t, 1) = '[' THEN '_'
                               WHEN p_lookalike THEN alpr.plate_skeleton(t) ELSE t END, '' ORDER BY n)
          INTO like_pattern FROM unnest(parsed.tokens) WITH ORDINALITY AS x(t, n);
        IF p_lookalike THEN
            INSERT INTO pg_temp.matched_plates
            SELECT p.plate, alpr.pattern_cost(parsed.tokens, p.plate, true) FROM alpr.plates p
            WHERE p.skeleton LIKE like_pattern AND p.skeleton ~ regex;
        ELSE
            INSERT INTO pg_temp.matched_plates SELECT p.plate, 0 FROM alpr.plates p
            WHERE p.plate LIKE like_pattern AND p.plate ~ regex;
        END IF;
    ELSE
        -- Prefilter with C-speed Levenshtein on skeletons ('#' stands for unknowns and mixed sets),
        -- then the exact weighted distance on the few survivors.
        SELECT string_agg(CASE WHEN t = '?' THEN '#'
                               WHEN left(t, 1) = '[' AND length(translate(alpr.plate_skeleton(substr(t, 2)),
                                     left(alpr.plate_skeleton(substr(t, 2)), 1), '')) > 0 THEN '#'
                               ELSE left(alpr.plate_skeleton(ltrim(t, '[')), 1) END, '' ORDER BY n),
               count(*) FILTER (WHERE t = '?' OR left(t, 1) = '[')
          INTO skeleton_probe, placeholder_count
          FROM unnest(parsed.tokens) WITH ORDINALITY AS x(t, n);
        INSERT INTO pg_temp.matched_plates
        SELECT plate, cost FROM (
            SELECT p.plate, alpr.pattern_cost(parsed.tokens, p.plate, p_lookalike) AS cost
            FROM alpr.plates p
            WHERE p.plate_length BETWEEN positions - p_max_mistakes AND positions + p_max_mistakes
              AND levenshtein_less_equal(skeleton_probe, p.skeleton, placeholder_count + p_max_mistakes)
                  <= placeholder_count + p_max_mistakes) c
        WHERE cost < (p_max_mistakes + 1) * 100;
    END IF;

    -- Breadth by what the pattern selects in the plate dictionary. Both refusals are told only after their
    -- audit row commits, and never with the count.
    SELECT count(*) INTO matched_count FROM pg_temp.matched_plates;
    IF matched_count > (search ->> 'max_plates_without_area')::int AND parsed_area.area IS NULL THEN
        RETURN alpr.refuse_deferred(checked.session, 'search_plates', 'pattern_too_broad',
            'this pattern matches too many different plates to search without an area: add an area (a circle or '
            'polygon around where the vehicle was) or more known characters', params);
    END IF;
    IF matched_count > (search ->> 'max_plates_without_approval')::int THEN
        SELECT approval_id INTO breadth_approval FROM alpr.scope_approvals
        WHERE db_user = session_user AND case_number = (checked.session).case_number AND function_name = 'search_plates'
          AND decision = 'approved' AND expires_at > now() AND plates >= matched_count
        ORDER BY decided_at DESC LIMIT 1;
        IF breadth_approval IS NULL THEN
            RETURN alpr.refuse_deferred(checked.session, 'search_plates', 'approval_required',
                format('this pattern matches more than the %s different plates this policy lets a search match '
                       'without a supervisor''s prior approval: narrow it, or request one '
                       '(request_scope_approval(''search_plates'', ..., plates=...))',
                       search ->> 'max_plates_without_approval'),
                params, ARRAY['over_scope']);
        END IF;
        gate.scope := gate.scope || jsonb_build_object('breadth_approval_id', breadth_approval);
    END IF;

    IF matched_count = 0 AND NOT EXISTS (SELECT 1 FROM unnest(parsed.tokens) t WHERE t IN ('?', '*') OR left(t, 1) = '[')
       AND p_max_mistakes = 0 THEN
        parsed_area.warning := concat_ws('; ', parsed_area.warning,
            format('no plate is %s exactly: for characters the witness did not see, write ? (one) or * (any run), '
                   'or try lookalike=True or one mistake', array_to_string(parsed.tokens, '')));
    END IF;

    WITH hits AS (
        -- Per matched plate, an index lookup on (plate, read_at): the planner has no statistics for the
        -- temp table and otherwise hash-joins against a scan of the window's whole partitions (at 10M reads
        -- that was every slow wildcard search: 250-380 ms). OFFSET 0 keeps the LATERAL from being flattened
        -- into that join. One row past the cap tells whether the cap cut the result.
        SELECT x.r AS r, m.cost, row_number() OVER (ORDER BY m.cost, (x.r).plate, (x.r).read_at) AS n
        FROM pg_temp.matched_plates m
        CROSS JOIN LATERAL (
            SELECT r FROM alpr.reads r
            WHERE r.plate = m.plate AND r.read_at >= p_from AND r.read_at < p_to AND r.logically_deleted_at IS NULL
              AND alpr.in_area(r.location, parsed_area.area, parsed_area.center, parsed_area.radius_m)
              AND alpr.passes_filters(r, filters)
            OFFSET 0) x
        ORDER BY m.cost, (x.r).plate, (x.r).read_at
        LIMIT row_cap + 1)
    SELECT coalesce(jsonb_agg(alpr.read_json(r) || jsonb_build_object('distance', cost / 100.0) ORDER BY n)
                        FILTER (WHERE n <= row_cap), '[]'),
           count(*) FILTER (WHERE n <= row_cap), count(DISTINCT (r).camera_id) FILTER (WHERE n <= row_cap),
           coalesce(array_agg((r).read_id) FILTER (WHERE n <= row_cap), '{}'),
           coalesce(array_agg(DISTINCT (r).plate) FILTER (WHERE n <= row_cap), '{}'),
           CASE WHEN count(*) > row_cap THEN jsonb_build_object('shown', row_cap) END
      INTO payload, row_total, cameras_touched, read_ids, plates_given, capped FROM hits;
    IF capped IS NOT NULL THEN
        capped := capped || jsonb_build_object(
            'total', (SELECT count(*) FROM pg_temp.matched_plates m CROSS JOIN LATERAL (
                          SELECT 1 FROM alpr.reads r
                          WHERE r.plate = m.plate AND r.read_at >= p_from AND r.read_at < p_to
                            AND r.logically_deleted_at IS NULL
                            AND alpr.in_area(r.location, parsed_area.area, parsed_area.center, parsed_area.radius_m)
                            AND alpr.passes_filters(r, filters) OFFSET 0) x),
            'order', 'best match first, then plate and time',
            'narrow', 'a shorter window, an area, more known characters or fewer mistakes');
    END IF;

    RETURN alpr.deliver(checked.session, 'search_plates', 'reads', payload, row_total, params,
        jsonb_build_object('area_km2', parsed_area.area_km2, 'window_hours',
                           round(extract(epoch FROM p_to - p_from)::numeric / 3600, 2), 'cameras', cameras_touched,
                           'plates_matched', matched_count)
            || gate.scope,
        CASE WHEN parsed_area.warning IS NULL THEN '{}'::text[] ELSE ARRAY[parsed_area.warning] END, gate.flags,
        read_ids, plates_given, capped);
END
$$;

CREATE OR REPLACE FUNCTION api.plate_history(p_access_id uuid, p_plate text, p_from timestamptz, p_to timestamptz,
                                             p_lookalike boolean DEFAULT false)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
SET jit = off  -- these index lookups take milliseconds; JIT compiling them took longer (benchmarks/search.py)
AS $$
DECLARE
    policy jsonb := alpr.policy();
    row_cap integer := (policy -> 'search' ->> 'max_result_rows')::int;
    wanted_plate text := alpr.normalize_plate(p_plate);
    wanted_skeleton text := alpr.plate_skeleton(alpr.normalize_plate(p_plate));
    params jsonb;
    checked record;
    refusal api.call_result;
    answer record;
BEGIN
    params := jsonb_build_object('plate', alpr.clip(p_plate, 100), 'from', p_from, 'to', p_to, 'lookalike', p_lookalike);
    checked := alpr.check_session(p_access_id, 'plate_history', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    refusal := alpr.plate_window_refusal(checked.session, 'plate_history', wanted_plate, p_plate, p_from, p_to,
                                         make_interval(days => (policy -> 'search' ->> 'max_window_days')::int), params);
    IF refusal.outcome IS NOT NULL THEN RETURN refusal; END IF;
    -- One statement per index ((plate, time) or (skeleton, time)); no temp table, whose catalog writes would
    -- cost more than the query itself. One row past the cap tells whether the cap cut the history.
    IF p_lookalike THEN
        WITH hits AS (
            SELECT r, row_number() OVER (ORDER BY r.read_at) AS n FROM alpr.reads r
            WHERE r.plate_skeleton = wanted_skeleton AND r.read_at >= p_from AND r.read_at < p_to
              AND r.logically_deleted_at IS NULL
            ORDER BY r.read_at LIMIT row_cap + 1)
        SELECT * INTO answer FROM alpr.reads_answer((SELECT array_agg(r ORDER BY n) FROM hits), row_cap);
    ELSE
        WITH hits AS (
            SELECT r, row_number() OVER (ORDER BY r.read_at) AS n FROM alpr.reads r
            WHERE r.plate = wanted_plate AND r.read_at >= p_from AND r.read_at < p_to
              AND r.logically_deleted_at IS NULL
            ORDER BY r.read_at LIMIT row_cap + 1)
        SELECT * INTO answer FROM alpr.reads_answer((SELECT array_agg(r ORDER BY n) FROM hits), row_cap);
    END IF;
    IF answer.capped IS NOT NULL THEN
        answer.capped := answer.capped || jsonb_build_object(
            'total', (SELECT count(*) FROM alpr.reads r
                      WHERE (CASE WHEN p_lookalike THEN r.plate_skeleton = wanted_skeleton ELSE r.plate = wanted_plate END)
                        AND r.read_at >= p_from AND r.read_at < p_to AND r.logically_deleted_at IS NULL),
            'order', 'oldest first', 'narrow', 'a shorter window');
    END IF;
    RETURN alpr.deliver(checked.session, 'plate_history', 'reads', answer.payload, answer.row_total, params,
        jsonb_build_object('window_hours', round(extract(epoch FROM p_to - p_from)::numeric / 3600, 2),
                           'cameras', answer.cameras),
        '{}', '{}', answer.read_ids, answer.plates, answer.capped);
END
$$;

-- Scenes: [{"label": "...", "area": {circle or polygon}, "from": ts, "to": ts}, ...].
CREATE OR REPLACE FUNCTION api.canvass(p_access_id uuid, p_scenes jsonb, p_min_scenes integer DEFAULT 2,
                                       p_filters jsonb DEFAULT '{}')
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
SET jit = off  -- these index lookups take milliseconds; JIT compiling them took longer (benchmarks/search.py)
AS $$
DECLARE
    policy jsonb := alpr.policy();
    search jsonb := policy -> 'search';
    params jsonb;
    checked record;
    scene_spec jsonb;
    scene_no integer := 0;
    parsed_area record;
    scene_from timestamptz;
    scene_to timestamptz;
    problem text;
    warnings text[] := '{}';
    total_area double precision := 0;
    total_hours numeric := 0;
    reads_payload jsonb;
    common_payload jsonb;
    row_total integer;
    cameras_touched integer;
    filters jsonb := alpr.normalized_filters(coalesce(p_filters, '{}'));
    -- Parsed scenes as parallel arrays (a temp table's catalog writes would cost more than the search).
    areas geography[] := '{}';
    centers geography[] := '{}';
    radii double precision[] := '{}';
    starts timestamptz[] := '{}';
    stops timestamptz[] := '{}';
    gate record;
    row_cap integer := (search ->> 'max_result_rows')::int;
    read_ids bigint[];
    plates_given text[];
    capped jsonb;
BEGIN
    params := jsonb_build_object('scenes', p_scenes, 'min_scenes', p_min_scenes, 'filters', filters);
    checked := alpr.check_session(p_access_id, 'canvass', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    IF p_scenes IS NULL OR jsonb_typeof(p_scenes) <> 'array' OR jsonb_array_length(p_scenes) = 0 THEN
        RETURN alpr.refuse_call(checked.session, 'canvass', 'invalid_scene', 'at least one scene is required', params);
    END IF;
    IF jsonb_array_length(p_scenes) > (search ->> 'max_scenes')::int THEN
        RETURN alpr.refuse_call(checked.session, 'canvass', 'invalid_scene',
            format('at most %s scenes at once', search ->> 'max_scenes'), params);
    END IF;
    IF p_min_scenes IS NULL OR p_min_scenes < 1 OR p_min_scenes > jsonb_array_length(p_scenes) THEN
        RETURN alpr.refuse_call(checked.session, 'canvass', 'invalid_scene',
            format('vehicles common to %s scenes cannot be found among %s scenes', p_min_scenes, jsonb_array_length(p_scenes)), params);
    END IF;
    problem := alpr.filter_error(filters);
    IF problem IS NOT NULL THEN
        RETURN alpr.refuse_call(checked.session, 'canvass', 'invalid_filter', problem, params);
    END IF;

    FOR scene_spec IN SELECT value FROM jsonb_array_elements(p_scenes) LOOP
        scene_no := scene_no + 1;
        parsed_area := alpr.parse_area(scene_spec -> 'area', (search ->> 'max_canvass_radius_m')::float8);
        IF parsed_area.error IS NULL AND parsed_area.area IS NULL THEN
            parsed_area.error := 'each scene needs an area (circle or polygon)';
        END IF;
        IF parsed_area.error IS NOT NULL THEN
            RETURN alpr.refuse_call(checked.session, 'canvass', 'invalid_area',
                                    format('scene %s: %s', scene_no, parsed_area.error), params);
        END IF;
        BEGIN
            scene_from := (scene_spec ->> 'from')::timestamptz;
            scene_to := (scene_spec ->> 'to')::timestamptz;
        EXCEPTION WHEN data_exception THEN
            RETURN alpr.refuse_call(checked.session, 'canvass', 'invalid_window',
                                    format('scene %s: the time window is malformed: %s', scene_no, SQLERRM), params);
        END;
        problem := alpr.window_error(scene_from, scene_to,
                                     make_interval(hours => (search ->> 'max_canvass_window_hours')::int));
        IF problem IS NOT NULL THEN
            RETURN alpr.refuse_call(checked.session, 'canvass', 'invalid_window',
                                    format('scene %s: %s', scene_no, problem), params);
        END IF;
        IF parsed_area.warning IS NOT NULL THEN
            warnings := warnings || format('scene %s: %s', scene_no, parsed_area.warning);
        END IF;
        total_area := total_area + parsed_area.area_km2;
        total_hours := total_hours + extract(epoch FROM scene_to - scene_from)::numeric / 3600;
        areas := areas || parsed_area.area;
        centers := centers || parsed_area.center;
        radii := radii || parsed_area.radius_m;
        starts := starts || scene_from;
        stops := stops || scene_to;
    END LOOP;
    gate := alpr.scope_gate(checked.session, 'canvass', total_area, round(total_hours, 2), areas, params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;

    -- Circles and polygons in separate branches so each keeps its plain, index-usable predicate. One row past
    -- the cap per scene tells whether the cap cut the answer.
    WITH scenes AS (
        SELECT * FROM unnest(areas, centers, radii, starts, stops)
            WITH ORDINALITY AS s(area, center, radius_m, t_from, t_to, scene)
    ), found AS (
        SELECT s.scene::integer AS scene, x.r FROM scenes s CROSS JOIN LATERAL (
            SELECT r FROM alpr.reads r
            WHERE s.radius_m IS NOT NULL AND ST_DWithin(r.location, s.center, s.radius_m)
              AND r.read_at >= s.t_from AND r.read_at <= s.t_to AND r.logically_deleted_at IS NULL
              AND alpr.passes_filters(r, filters)
            LIMIT row_cap + 1) x
        UNION ALL
        SELECT s.scene::integer, x.r FROM scenes s CROSS JOIN LATERAL (
            SELECT r FROM alpr.reads r
            WHERE s.radius_m IS NULL AND ST_Intersects(r.location, s.area)
              AND r.read_at >= s.t_from AND r.read_at <= s.t_to AND r.logically_deleted_at IS NULL
              AND alpr.passes_filters(r, filters)
            LIMIT row_cap + 1) x
    ), numbered AS (
        SELECT scene, r, row_number() OVER (ORDER BY scene, (r).read_at, (r).read_id) AS n FROM found
    ), hits AS (SELECT scene, r FROM numbered WHERE n <= row_cap)
    SELECT (SELECT coalesce(jsonb_agg(alpr.read_json(r) || jsonb_build_object('scene', scene)
                                      ORDER BY scene, (r).read_at), '[]') FROM hits),
           (SELECT count(*) FROM hits),
           (SELECT count(DISTINCT (r).camera_id) FROM hits),
           (SELECT coalesce(jsonb_agg(jsonb_build_object('plate', plate, 'scene_count', scene_count, 'scenes', scene_list,
                                                         'reads', read_count) ORDER BY scene_count DESC, plate), '[]')
              FROM (SELECT (r).plate AS plate, count(DISTINCT scene) AS scene_count,
                           array_agg(DISTINCT scene ORDER BY scene) AS scene_list, count(*) AS read_count
                    FROM hits GROUP BY (r).plate HAVING count(DISTINCT scene) >= p_min_scenes) c),
           (SELECT coalesce(array_agg((r).read_id), '{}') FROM hits),
           (SELECT coalesce(array_agg(DISTINCT (r).plate), '{}') FROM hits),
           (SELECT CASE WHEN count(*) > row_cap THEN jsonb_build_object('shown', row_cap) END FROM found)
      INTO reads_payload, row_total, cameras_touched, common_payload, read_ids, plates_given, capped;
    IF capped IS NOT NULL THEN
        capped := capped || jsonb_build_object(
            'total', (SELECT count(*) FROM unnest(areas, centers, radii, starts, stops) AS s(area, center, radius_m, t_from, t_to)
                      JOIN alpr.reads r ON r.read_at >= s.t_from AND r.read_at <= s.t_to
                       AND CASE WHEN s.radius_m IS NOT NULL THEN ST_DWithin(r.location, s.center, s.radius_m)
                                ELSE ST_Intersects(r.location, s.area) END
                      WHERE r.logically_deleted_at IS NULL AND alpr.passes_filters(r, filters)),
            'order', 'scene, then time', 'narrow', 'shorter windows or smaller areas');
    END IF;

    RETURN alpr.deliver(checked.session, 'canvass', 'canvass',
        jsonb_build_object('reads', reads_payload, 'common', common_payload), row_total, params,
        jsonb_build_object('area_km2', round(total_area::numeric, 4), 'window_hours', round(total_hours, 2),
                           'cameras', cameras_touched, 'scenes', scene_no) || gate.scope,
        warnings, gate.flags, read_ids, plates_given, capped);
END
$$;

CREATE OR REPLACE FUNCTION api.read_image(p_access_id uuid, p_read_id bigint)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('read_id', p_read_id);
    checked record;
    found_read alpr.reads;
    image alpr.read_images;
BEGIN
    checked := alpr.check_session(p_access_id, 'read_image', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    -- Whether the read exists, and has an image, is ALPR data too: told only after the audit commits.
    SELECT * INTO found_read FROM alpr.reads WHERE read_id = p_read_id AND logically_deleted_at IS NULL;
    IF found_read.read_id IS NULL THEN
        RETURN alpr.refuse_deferred(checked.session, 'read_image', 'unknown_read', format('no read %s', p_read_id), params);
    END IF;
    SELECT * INTO image FROM alpr.read_images WHERE image_id = found_read.plate_image_id;
    IF image.image_id IS NULL THEN
        RETURN alpr.refuse_deferred(checked.session, 'read_image', 'no_image', format('read %s has no image', p_read_id),
                                    params || jsonb_build_object('plate', found_read.plate));
    END IF;
    RETURN alpr.deliver(checked.session, 'read_image', 'image',
        jsonb_build_object('read_id', p_read_id, 'plate', found_read.plate, 'media_type', image.media_type,
                           'sha256', image.sha256, 'content_base64', encode(image.content, 'base64')),
        1, params || jsonb_build_object('plate', found_read.plate), '{}', '{}', '{}',
        ARRAY[found_read.read_id], ARRAY[found_read.plate]);
END
$$;

-- Records what leaves the system: format, rows, digest and destination, under the open case. A destination
-- is the case's own file ('case_file'), or an agency on file with an approved sharing request (then
-- api.record_sharing_export records which request); anything else is refused, audited and flagged.
CREATE OR REPLACE FUNCTION api.record_export(p_access_id uuid, p_result_ids uuid[], p_format text, p_rows integer,
                                             p_sha256 text, p_destination text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('results', p_result_ids, 'format', alpr.clip(p_format, 20), 'rows', p_rows,
                                       'sha256', alpr.clip(p_sha256, 64), 'destination', alpr.clip(p_destination, 300));
    checked record;
BEGIN
    checked := alpr.check_session(p_access_id, 'export', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    IF p_destination IS DISTINCT FROM 'case_file' THEN
        RETURN alpr.refuse_call(checked.session, 'export', 'export_destination_refused',
            format('an export goes to the file of case %s (destination ''case_file'') or, under an approved sharing '
                   'request, to an agency on file; %s is neither', (checked.session).case_number,
                   quote_literal(alpr.clip(coalesce(p_destination, ''), 80))),
            params, ARRAY['export_refused']);
    END IF;
    IF p_format IS NULL OR p_format NOT IN ('csv', 'geojson', 'html', 'png', 'zip') THEN
        RETURN alpr.refuse_call(checked.session, 'export', 'invalid_export', 'export format must be csv, geojson, html, png or zip', params);
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(coalesce(p_result_ids, '{}')) rid
               WHERE NOT EXISTS (SELECT 1 FROM alpr.result_sets s WHERE s.result_id = rid AND s.access_id = p_access_id)) THEN
        RETURN alpr.refuse_call(checked.session, 'export', 'invalid_export', 'an exported result does not belong to this access session', params);
    END IF;
    RETURN alpr.park(checked.session,
        alpr.write_audit('export', 'granted', NULL, (checked.session).access_id, (checked.session).case_number,
                         (checked.session).purpose, (checked.session).justification, params, '{}', coalesce(p_rows, 0),
                         ARRAY['export'], '{}'),
        'acknowledgement', 'granted', NULL, format('export of %s rows to the file of case %s recorded', coalesce(p_rows, 0),
                                                   (checked.session).case_number), '{}', 0, '{}');
END
$$;

CREATE OR REPLACE FUNCTION api.cameras() RETURNS TABLE (camera_id text, name text, kind text, lat double precision,
                                                         lon double precision, heading_deg real)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT camera_id, name, kind, ST_Y(location::geometry), ST_X(location::geometry), heading_deg
    FROM alpr.cameras WHERE kind = 'fixed' ORDER BY camera_id
$$;
