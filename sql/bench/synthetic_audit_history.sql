-- A year of audit records for the review benchmark: 8 people, their cases, purposes, searches and canvasses
-- with scopes, plate lookups, some refusals, at working hours. Written directly (the chain is not the
-- subject here and is not verified); run as the store owner.
INSERT INTO alpr.audit_log (audit_id, logged_at, db_user, username, user_role, access_id, case_number, purpose,
                            justification, function_name, parameters, scope, rows_returned, outcome, reason, flags)
SELECT (SELECT coalesce(max(audit_id), 0) FROM alpr.audit_log) + n,
       %(end)s::timestamptz - make_interval(secs => (n::float8 / %(records)s) * 365 * 86400)
           + make_interval(hours => 8 + (n %% 9)),
       (ARRAY['analyst_avery', 'investigator_ito', 'analyst_lapsed', 'admin_adams', 'analyst_b', 'analyst_c',
              'analyst_d', 'analyst_e'])[1 + n %% 8],
       'Bench User', 'data_user', gen_random_uuid(), format('26-%%s', 1000 + n %% 300), 'criminal_investigation',
       format('Case work on series %%s', n %% 40),
       (ARRAY['search_plates', 'plate_history', 'plate_history', 'canvass', 'read_image', 'open_access'])[1 + n %% 6],
       CASE WHEN n %% 6 IN (1, 2) THEN jsonb_build_object('plate', format('%%sABC%%s', n %% 9, lpad((n %% 997)::text, 3, '0')))
            WHEN n %% 6 = 0 THEN jsonb_build_object('pattern', '7??B12?')
            WHEN n %% 6 = 3 THEN jsonb_build_object('scenes', jsonb_build_array(jsonb_build_object(
                'area', jsonb_build_object('type', 'circle', 'lat', 33.78 + (n %% 50) / 1000.0,
                                           'lon', -118.19 + (n %% 70) / 1000.0, 'radius_m', 300))))
            ELSE '{}' END,
       CASE WHEN n %% 6 = 3 THEN jsonb_build_object('area_km2', 0.2827, 'window_hours', 4, 'cameras', 3)
            WHEN n %% 6 = 0 THEN jsonb_build_object('window_hours', 720, 'cameras', 30)
            WHEN n %% 6 IN (1, 2) THEN jsonb_build_object('window_hours', 2160, 'cameras', 5)
            ELSE '{}' END,
       n %% 50, CASE WHEN n %% 97 = 0 THEN 'denied' ELSE 'granted' END,
       CASE WHEN n %% 97 = 0 THEN 'pattern_too_broad' END, '{}'
FROM generate_series(1, %(records)s) AS n;
SELECT setval('alpr.audit_id_seq', (SELECT max(audit_id) FROM alpr.audit_log));
