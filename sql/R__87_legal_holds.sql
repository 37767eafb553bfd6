-- Legal holds: an investigator asks, under the open case, with a specific reason, a contact and the
-- supervisor's approval; held reads are never purged; holds come up for re-verification every two years
-- (profile); an administrator records their release. The held reads themselves are fetched under the case
-- for an evidence export. All audited.
SET LOCAL ROLE alpr_owner;

DROP FUNCTION IF EXISTS api.legal_hold_request(uuid, text, timestamptz, timestamptz, text, text, text);

-- An investigator asks; the hold is pending and protects nothing until a supervisor approves it in their
-- own session (api.decide_legal_hold). How many reads it holds is told only with the fetch.
CREATE OR REPLACE FUNCTION api.legal_hold_request(p_access_id uuid, p_plate text, p_from timestamptz,
                                                  p_to timestamptz, p_reason text, p_contact text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('plate', alpr.clip(p_plate, 40), 'from', p_from, 'to', p_to,
                                       'reason', alpr.clip(p_reason, 500), 'contact', alpr.clip(p_contact, 200));
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
    IF length(btrim(coalesce(p_contact, ''))) < 5 THEN
        RETURN alpr.refuse_call(checked.session, 'legal_hold_request', 'invalid_justification',
            'a hold needs the investigator''s contact (name and phone or email)', params);
    END IF;
    INSERT INTO alpr.legal_holds (case_number, reason, investigator_contact, requested_by, status)
    VALUES ((checked.session).case_number, btrim(p_reason), btrim(p_contact), session_user, 'pending')
    RETURNING hold_id INTO new_hold;
    INSERT INTO alpr.legal_hold_reads (hold_id, read_id, read_at)
    SELECT new_hold, r.read_id, r.read_at FROM alpr.reads r
    WHERE r.plate = wanted AND r.read_at >= p_from AND r.read_at < p_to;
    GET DIAGNOSTICS held = ROW_COUNT;
    IF held = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'no_data_found', MESSAGE = 'no reads to hold';
    END IF;
    RETURN alpr.acknowledge(checked.session, 'legal_hold_request', params || jsonb_build_object('hold_id', new_hold, 'reads', held),
        format('hold %s asks to keep %s reads of %s under case %s; it protects them once a supervisor approves it',
               new_hold, held, wanted, (checked.session).case_number),
        jsonb_build_object('hold_id', new_hold, 'reads', held, 'status', 'pending'));
EXCEPTION WHEN no_data_found THEN
    -- whether the plate has reads is ALPR data: told only after the audit row commits
    RETURN alpr.refuse_deferred(checked.session, 'legal_hold_request', 'unknown_read',
        format('no reads of %s in that window to hold', wanted), params);
END
$$;

-- A supervisor approves or refuses a pending hold in their own session; an approved hold is re-verified
-- after the profile's period (two years).
CREATE OR REPLACE FUNCTION api.decide_legal_hold(p_hold_id integer, p_approve boolean, p_note text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('hold_id', p_hold_id, 'approve', p_approve, 'note', alpr.clip(p_note, 500));
    hold alpr.legal_holds;
    due date;
BEGIN
    gate := alpr.role_check(ARRAY['supervisor'], 'decide_legal_hold', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    SELECT * INTO hold FROM alpr.legal_holds WHERE hold_id = p_hold_id FOR UPDATE;
    IF hold.hold_id IS NULL OR hold.status <> 'pending' THEN
        RETURN alpr.admin_result('decide_legal_hold', params, false, format('no pending hold %s', p_hold_id));
    ELSIF hold.requested_by = session_user THEN
        RETURN alpr.admin_result('decide_legal_hold', params, false, 'nobody approves their own hold');
    ELSIF p_approve IS NULL OR length(btrim(coalesce(p_note, ''))) < 10 THEN
        RETURN alpr.admin_result('decide_legal_hold', params, false, 'approve or refuse, with a note of at least 10 characters');
    END IF;
    due := CASE WHEN p_approve THEN (now() + coalesce((alpr.policy() -> 'retention' ->> 'legal_hold_reverify_after')::interval,
                                                      interval '2 years'))::date END;
    UPDATE alpr.legal_holds
    SET status = CASE WHEN p_approve THEN 'approved' ELSE 'refused' END, decided_by = session_user,
        approved_at = CASE WHEN p_approve THEN now() END, decision_note = btrim(p_note),
        supervisor_approval = CASE WHEN p_approve THEN session_user END, next_verification_due = due
    WHERE hold_id = p_hold_id;
    RETURN alpr.admin_result('decide_legal_hold', params, true,
        format('hold %s %s', p_hold_id, CASE WHEN p_approve THEN format('approved; re-verify by %s', due) ELSE 'refused' END),
        jsonb_build_object('hold_id', p_hold_id, 'status', CASE WHEN p_approve THEN 'approved' ELSE 'refused' END,
                           'next_verification_due', due));
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
    read_ids bigint[];
    plates_given text[];
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
           count(*), coalesce(array_agg(r.read_id), '{}'), coalesce(array_agg(DISTINCT r.plate), '{}')
      INTO payload, row_total, read_ids, plates_given
    FROM alpr.legal_hold_reads hr JOIN alpr.reads r ON r.read_id = hr.read_id AND r.read_at = hr.read_at
    LEFT JOIN alpr.read_images i ON i.image_id = r.plate_image_id
    WHERE hr.hold_id = p_hold_id;
    RETURN alpr.deliver(checked.session, 'legal_hold_reads', 'reads',
        jsonb_build_object('hold', jsonb_build_object('hold_id', hold.hold_id, 'case_number', hold.case_number,
                                                      'reason', hold.reason, 'contact', hold.investigator_contact,
                                                      'status', hold.status, 'approved_by', hold.decided_by,
                                                      'approved_at', hold.approved_at,
                                                      'next_verification_due', hold.next_verification_due,
                                                      'released_at', hold.released_at),
                           'reads', payload),
        row_total, params, '{}', '{}', '{}', read_ids, plates_given);
END
$$;

CREATE OR REPLACE FUNCTION api.legal_hold_release(p_hold_id integer, p_reason text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('hold_id', p_hold_id, 'reason', alpr.clip(p_reason, 500));
    changed integer;
BEGIN
    gate := alpr.role_check(ARRAY['administrator'], 'legal_hold_release', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
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

-- Holds awaiting a supervisor's decision, and approved holds to re-verify within p_days (no plate
-- numbers; how many reads each holds comes with the fetch): administrators and supervisors, audited.
DROP FUNCTION IF EXISTS api.legal_holds_due(integer);
CREATE OR REPLACE FUNCTION api.legal_holds_due(p_days integer DEFAULT 60)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('days', p_days);
    payload jsonb;
    row_total integer;
BEGIN
    gate := alpr.role_check(ARRAY['administrator', 'supervisor'], 'legal_holds_due', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'hold_id', h.hold_id, 'case_number', h.case_number, 'status', h.status, 'reason', h.reason,
               'investigator_contact', h.investigator_contact, 'requested_by', h.requested_by,
               'approved_by', h.decided_by, 'approved_at', h.approved_at, 'next_verification_due', h.next_verification_due,
               'reads', (SELECT count(*) FROM alpr.legal_hold_reads r WHERE r.hold_id = h.hold_id))
               ORDER BY h.status DESC, h.next_verification_due, h.hold_id), '[]'), count(*)
      INTO payload, row_total
    FROM alpr.legal_holds h
    WHERE h.released_at IS NULL
      AND (h.status = 'pending' OR (h.status = 'approved' AND h.next_verification_due <= current_date + p_days));
    RETURN alpr.deliver(NULL, 'legal_holds_due', 'legal_holds', payload, row_total, params, '{}');
END
$$;

REVOKE ALL ON FUNCTION api.legal_hold_request(uuid, text, timestamptz, timestamptz, text, text),
    api.legal_hold_reads(uuid, integer), api.legal_hold_release(integer, text), api.legal_holds_due(integer),
    api.decide_legal_hold(integer, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.legal_hold_request(uuid, text, timestamptz, timestamptz, text, text),
    api.legal_hold_reads(uuid, integer) TO workbench_user;
GRANT EXECUTE ON FUNCTION api.legal_hold_release(integer, text) TO workbench_administrator;
GRANT EXECUTE ON FUNCTION api.decide_legal_hold(integer, boolean, text) TO workbench_supervisor;
GRANT EXECUTE ON FUNCTION api.legal_holds_due(integer) TO workbench_administrator, workbench_supervisor;
