-- Legal holds: an investigator asks, under the open case, with a specific reason, a contact and the
-- supervisor's approval; held reads are never purged; holds come up for re-verification every two years
-- (profile); an administrator records their release. The held reads themselves are fetched under the case
-- for an evidence export. All audited.
SET LOCAL ROLE alpr_owner;

CREATE OR REPLACE FUNCTION api.legal_hold_request(p_access_id uuid, p_plate text, p_from timestamptz,
                                                  p_to timestamptz, p_reason text, p_contact text,
                                                  p_supervisor_approval text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('plate', alpr.clip(p_plate, 40), 'from', p_from, 'to', p_to,
                                       'reason', alpr.clip(p_reason, 500), 'contact', alpr.clip(p_contact, 200),
                                       'supervisor_approval', alpr.clip(p_supervisor_approval, 200));
    checked record;
    wanted text := alpr.normalize_plate(p_plate);
    refusal api.call_result;
    new_hold integer;
    held integer;
BEGIN
    checked := alpr.check_session(p_access_id, 'legal_hold_request', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    refusal := alpr.plate_window_refusal(checked.session, 'legal_hold_request', wanted, p_plate, p_from, p_to, interval '100 years',
                                         params);
    IF refusal.outcome IS NOT NULL THEN RETURN refusal; END IF;
    IF length(btrim(coalesce(p_reason, ''))) < 20 THEN
        RETURN alpr.refuse_call(checked.session, 'legal_hold_request', 'invalid_justification',
            'a hold needs a specific reason (at least 20 characters): what the reads are evidence of', params);
    END IF;
    IF length(btrim(coalesce(p_contact, ''))) < 5 OR length(btrim(coalesce(p_supervisor_approval, ''))) < 5 THEN
        RETURN alpr.refuse_call(checked.session, 'legal_hold_request', 'invalid_justification',
            'a hold needs the investigator''s contact and the supervisor''s approval', params);
    END IF;
    INSERT INTO alpr.legal_holds (case_number, reason, investigator_contact, requested_by, supervisor_approval,
                                  next_verification_due)
    VALUES ((checked.session).case_number, btrim(p_reason), btrim(p_contact), session_user, btrim(p_supervisor_approval),
            (now() + coalesce((alpr.policy() -> 'retention' ->> 'legal_hold_reverify_after')::interval,
                              interval '2 years'))::date)
    RETURNING hold_id INTO new_hold;
    INSERT INTO alpr.legal_hold_reads (hold_id, read_id, read_at)
    SELECT new_hold, r.read_id, r.read_at FROM alpr.reads r
    WHERE r.plate = wanted AND r.read_at >= p_from AND r.read_at < p_to;
    GET DIAGNOSTICS held = ROW_COUNT;
    IF held = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'no_data_found', MESSAGE = 'no reads to hold';
    END IF;
    RETURN alpr.acknowledge(checked.session, 'legal_hold_request', params || jsonb_build_object('hold_id', new_hold, 'reads', held),
        format('hold %s: %s reads of %s under case %s, re-verify by %s', new_hold, held, wanted,
               (checked.session).case_number,
               (SELECT next_verification_due FROM alpr.legal_holds WHERE hold_id = new_hold)));
EXCEPTION WHEN no_data_found THEN
    RETURN alpr.refuse_call(checked.session, 'legal_hold_request', 'unknown_read',
        format('no reads of %s in that window to hold', wanted), params);
END
$$;

-- The reads of a hold of the open case, with their images, for the evidence export.
CREATE OR REPLACE FUNCTION api.legal_hold_reads(p_access_id uuid, p_hold_id integer)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('hold_id', p_hold_id);
    checked record;
    hold alpr.legal_holds;
    payload jsonb;
    row_total integer;
BEGIN
    checked := alpr.check_session(p_access_id, 'legal_hold_reads', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    SELECT * INTO hold FROM alpr.legal_holds WHERE hold_id = p_hold_id;
    IF hold.hold_id IS NULL OR hold.case_number <> (checked.session).case_number THEN
        RETURN alpr.refuse_call(checked.session, 'legal_hold_reads', 'not_assigned_to_case',
            format('hold %s does not belong to case %s', p_hold_id, (checked.session).case_number), params);
    END IF;
    SELECT coalesce(jsonb_agg(alpr.read_json(r) || jsonb_build_object(
               'image_base64', encode(i.content, 'base64'), 'image_sha256', i.sha256) ORDER BY r.read_at), '[]'),
           count(*)
      INTO payload, row_total
    FROM alpr.legal_hold_reads hr JOIN alpr.reads r ON r.read_id = hr.read_id AND r.read_at = hr.read_at
    LEFT JOIN alpr.read_images i ON i.image_id = r.plate_image_id
    WHERE hr.hold_id = p_hold_id;
    RETURN alpr.deliver(checked.session, 'legal_hold_reads', 'reads',
        jsonb_build_object('hold', jsonb_build_object('hold_id', hold.hold_id, 'case_number', hold.case_number,
                                                      'reason', hold.reason, 'contact', hold.investigator_contact,
                                                      'approval', hold.supervisor_approval,
                                                      'approved_at', hold.approved_at,
                                                      'next_verification_due', hold.next_verification_due,
                                                      'released_at', hold.released_at),
                           'reads', payload),
        row_total, params, '{}');
END
$$;

CREATE OR REPLACE FUNCTION api.legal_hold_release(p_hold_id integer, p_reason text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('hold_id', p_hold_id, 'reason', alpr.clip(p_reason, 500));
    changed integer;
BEGIN
    IF alpr.require_role(ARRAY['administrator'], 'legal_hold_release', params) IS NULL THEN
        RETURN ROW(NULL, 'denied', 'role_not_authorized', 'administrators only', 0, NULL, NULL)::api.call_result;
    END IF;
    IF length(btrim(coalesce(p_reason, ''))) < 10 THEN
        RETURN alpr.admin_result('legal_hold_release', params, false, 'say why the hold ends (e.g. case adjudicated), at least 10 characters');
    END IF;
    UPDATE alpr.legal_holds SET released_at = now(), released_by = session_user, release_reason = btrim(p_reason)
    WHERE hold_id = p_hold_id AND released_at IS NULL;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 THEN
        RETURN alpr.admin_result('legal_hold_release', params, false, format('no active hold %s', p_hold_id));
    END IF;
    RETURN alpr.admin_result('legal_hold_release', params, true,
                             format('hold %s released; its reads follow the retention periods again', p_hold_id));
END
$$;

-- Holds to re-verify (due within p_days), no plate numbers: administrators and supervisors.
CREATE OR REPLACE FUNCTION api.legal_holds_due(p_days integer DEFAULT 60)
RETURNS TABLE (hold_id integer, case_number text, reason text, investigator_contact text, requested_by text,
               approved_at timestamptz, next_verification_due date, reads bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF alpr.require_role(ARRAY['administrator', 'supervisor'], 'legal_holds_due', jsonb_build_object('days', p_days)) IS NULL THEN
        RAISE EXCEPTION 'administrators and supervisors only' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM alpr.write_audit('legal_holds_due', 'granted', NULL, NULL, NULL, NULL, NULL,
                             jsonb_build_object('days', p_days), '{}', 0, '{}', '{}');
    RETURN QUERY
        SELECT h.hold_id, h.case_number, h.reason, h.investigator_contact, h.requested_by, h.approved_at,
               h.next_verification_due, (SELECT count(*) FROM alpr.legal_hold_reads r WHERE r.hold_id = h.hold_id)
        FROM alpr.legal_holds h
        WHERE h.released_at IS NULL AND h.next_verification_due <= current_date + p_days
        ORDER BY h.next_verification_due;
END
$$;

REVOKE ALL ON FUNCTION api.legal_hold_request(uuid, text, timestamptz, timestamptz, text, text, text),
    api.legal_hold_reads(uuid, integer), api.legal_hold_release(integer, text), api.legal_holds_due(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.legal_hold_request(uuid, text, timestamptz, timestamptz, text, text, text),
    api.legal_hold_reads(uuid, integer) TO workbench_user;
GRANT EXECUTE ON FUNCTION api.legal_hold_release(integer, text) TO workbench_administrator;
GRANT EXECUTE ON FUNCTION api.legal_holds_due(integer) TO workbench_administrator, workbench_supervisor;
