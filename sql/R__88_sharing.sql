-- Sharing with other agencies (Manhattan Beach 462.7; LAPD interagency agreements; Civil Code
-- 1798.90.55): a written request is recorded (agency, requester, intended purpose), reviewed and
-- decided by a supervisor, and kept on file. An export for another agency needs an approved request and
-- an agency the profile allows; commercial and non-law-enforcement requesters are refused.
SET LOCAL ROLE alpr_owner;

-- Why the profile refuses this agency, or NULL.
CREATE OR REPLACE FUNCTION alpr.sharing_refusal(agency alpr.sharing_agencies) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN agency.agency_name IS NULL THEN 'the agency is not on file; an administrator records it first'
        WHEN NOT (s -> 'allowed_agency_types') ? agency.agency_type
            THEN format('%s is a %s agency; this profile shares only with %s', agency.agency_name,
                        agency.agency_type, s -> 'allowed_agency_types')
        WHEN coalesce((s ->> 'refuse_federal')::boolean, false) AND agency.federal
            THEN 'federal agencies are refused (Civil Code 1798.90.55)'
        WHEN coalesce((s ->> 'refuse_out_of_state')::boolean, false) AND agency.state <> 'CA'
            THEN 'out-of-state agencies are refused (Civil Code 1798.90.55)'
        WHEN coalesce((s ->> 'local_only')::boolean, false) AND NOT agency.local
            THEN 'this profile shares with local agencies only'
        WHEN coalesce((s ->> 'require_interagency_agreement')::boolean, false) AND agency.agreement_reference IS NULL
            THEN 'no interagency agreement is on file with this agency'
    END
    FROM (SELECT alpr.policy() -> 'sharing' AS s) p
$$;

CREATE OR REPLACE FUNCTION api.sharing_record_agency(p_name text, p_type text, p_state text, p_federal boolean,
                                                     p_local boolean, p_agreement text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('agency', alpr.clip(p_name, 200), 'type', alpr.clip(p_type, 40),
                                       'state', alpr.clip(p_state, 10), 'federal', p_federal, 'local', p_local,
                                       'agreement', alpr.clip(p_agreement, 200));
BEGIN
    gate := alpr.role_check(ARRAY['administrator'], 'sharing_record_agency', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    IF coalesce(btrim(p_name), '') = '' OR coalesce(upper(p_state), '') !~ '^[A-Z]{2}$'
       OR p_type NOT IN ('law_enforcement', 'prosecutorial', 'commercial', 'media', 'public', 'other') THEN
        RETURN alpr.admin_result('sharing_record_agency', params, false,
            'give the agency''s name, a two-letter state and a type: law_enforcement, prosecutorial, commercial, media, public or other');
    END IF;
    INSERT INTO alpr.sharing_agencies (agency_name, agency_type, state, federal, local, agreement_reference)
    VALUES (btrim(p_name), p_type, upper(p_state), coalesce(p_federal, false), coalesce(p_local, true), nullif(btrim(p_agreement), ''))
    ON CONFLICT (agency_name) DO UPDATE SET agency_type = excluded.agency_type, state = excluded.state,
        federal = excluded.federal, local = excluded.local, agreement_reference = excluded.agreement_reference;
    RETURN alpr.admin_result('sharing_record_agency', params, true, format('%s on file', btrim(p_name)));
END
$$;

CREATE OR REPLACE FUNCTION api.sharing_record_request(p_agency text, p_requester text, p_purpose text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('agency', alpr.clip(p_agency, 200), 'requester', alpr.clip(p_requester, 200),
                                       'purpose', alpr.clip(p_purpose, 500));
    new_request integer;
BEGIN
    gate := alpr.role_check(ARRAY['administrator', 'supervisor'], 'sharing_record_request', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    IF length(btrim(coalesce(p_requester, ''))) < 3 OR length(btrim(coalesce(p_purpose, ''))) < 20 THEN
        RETURN alpr.admin_result('sharing_record_request', params, false,
            'a written request names the requester and the intended purpose (at least 20 characters)');
    END IF;
    INSERT INTO alpr.sharing_requests (agency_name, requester_name, intended_purpose)
    VALUES (btrim(p_agency), btrim(p_requester), btrim(p_purpose)) RETURNING request_id INTO new_request;
    RETURN alpr.admin_result('sharing_record_request', params, true, format('request %s recorded', new_request),
                             jsonb_build_object('request_id', new_request));
END
$$;

-- A supervisor decides; the profile's refusals cannot be overridden.
CREATE OR REPLACE FUNCTION api.sharing_decide(p_request_id integer, p_approve boolean, p_reason text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gate record;
    params jsonb := jsonb_build_object('request_id', p_request_id, 'approve', p_approve, 'reason', alpr.clip(p_reason, 500));
    request alpr.sharing_requests;
    agency alpr.sharing_agencies;
    refusal text;
BEGIN
    gate := alpr.role_check(ARRAY['supervisor', 'administrator'], 'sharing_decide', params);
    IF (gate.refusal).outcome IS NOT NULL THEN RETURN gate.refusal; END IF;
    SELECT * INTO request FROM alpr.sharing_requests WHERE request_id = p_request_id;
    IF request.request_id IS NULL OR request.decision IS NOT NULL THEN
        RETURN alpr.admin_result('sharing_decide', params, false, format('no undecided request %s', p_request_id));
    END IF;
    IF length(btrim(coalesce(p_reason, ''))) < 10 THEN
        RETURN alpr.admin_result('sharing_decide', params, false, 'give the reason for the decision (at least 10 characters)');
    END IF;
    SELECT * INTO agency FROM alpr.sharing_agencies WHERE agency_name = request.agency_name;
    refusal := alpr.sharing_refusal(agency);
    IF p_approve AND refusal IS NOT NULL THEN
        UPDATE alpr.sharing_requests SET reviewer = session_user, decision = 'refused', decided_at = now(),
            decision_reason = 'refused by policy: ' || refusal WHERE request_id = p_request_id;
        RETURN alpr.admin_result('sharing_decide', params, false, format('request %s refused: %s', p_request_id, refusal));
    END IF;
    UPDATE alpr.sharing_requests SET reviewer = session_user, decided_at = now(), decision_reason = btrim(p_reason),
        decision = CASE WHEN p_approve THEN 'approved' ELSE 'refused' END WHERE request_id = p_request_id;
    RETURN alpr.admin_result('sharing_decide', params, true,
                             format('request %s %s', p_request_id, CASE WHEN p_approve THEN 'approved' ELSE 'refused' END),
                             jsonb_build_object('request_id', p_request_id,
                                                'decision', CASE WHEN p_approve THEN 'approved' ELSE 'refused' END));
END
$$;

-- An export to another agency: audited under the case, only on an approved request.
CREATE OR REPLACE FUNCTION api.record_sharing_export(p_access_id uuid, p_request_id integer, p_result_ids uuid[],
                                                     p_format text, p_rows integer, p_sha256 text)
RETURNS api.call_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    params jsonb := jsonb_build_object('request_id', p_request_id, 'results', p_result_ids, 'format', alpr.clip(p_format, 20),
                                       'rows', p_rows, 'sha256', alpr.clip(p_sha256, 64));
    checked record;
    request alpr.sharing_requests;
    refusal text;
BEGIN
    checked := alpr.check_session(p_access_id, 'sharing_export', params);
    IF (checked.refusal).outcome IS NOT NULL THEN RETURN checked.refusal; END IF;
    SELECT * INTO request FROM alpr.sharing_requests WHERE request_id = p_request_id;
    IF request.request_id IS NULL OR request.decision IS DISTINCT FROM 'approved' THEN
        RETURN alpr.refuse_call(checked.session, 'sharing_export', 'sharing_not_approved',
            format('sharing request %s is not approved; data leaves only on an approved written request', p_request_id), params);
    END IF;
    refusal := alpr.sharing_refusal((SELECT a FROM alpr.sharing_agencies a WHERE a.agency_name = request.agency_name));
    IF refusal IS NOT NULL THEN
        RETURN alpr.refuse_call(checked.session, 'sharing_export', 'sharing_not_approved', refusal, params);
    END IF;
    IF p_format NOT IN ('csv', 'geojson', 'html', 'zip') THEN
        RETURN alpr.refuse_call(checked.session, 'sharing_export', 'invalid_export', 'format must be csv, geojson, html or zip', params);
    END IF;
    RETURN alpr.acknowledge(checked.session, 'sharing_export', params || jsonb_build_object('agency', request.agency_name),
                            format('export for %s recorded under request %s', request.agency_name, p_request_id),
                            jsonb_build_object('agency', request.agency_name, 'request_id', p_request_id));
END
$$;

REVOKE ALL ON FUNCTION alpr.sharing_refusal(alpr.sharing_agencies) FROM PUBLIC;
REVOKE ALL ON FUNCTION api.sharing_record_agency(text, text, text, boolean, boolean, text),
    api.sharing_record_request(text, text, text), api.sharing_decide(integer, boolean, text),
    api.record_sharing_export(uuid, integer, uuid[], text, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.sharing_record_agency(text, text, text, boolean, boolean, text) TO workbench_administrator;
GRANT EXECUTE ON FUNCTION api.sharing_record_request(text, text, text) TO workbench_administrator, workbench_supervisor;
GRANT EXECUTE ON FUNCTION api.sharing_decide(integer, boolean, text) TO workbench_supervisor, workbench_administrator;
GRANT EXECUTE ON FUNCTION api.record_sharing_export(uuid, integer, uuid[], text, integer, text) TO workbench_user;
