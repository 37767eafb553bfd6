-- Who may call what. Nothing in schema alpr is granted to anyone; api functions by name only.
SET LOCAL ROLE alpr_owner;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA alpr FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA alpr FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA alpr FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    api.open_access(text, text, text, jsonb),
    api.fetch_result(uuid),
    api.search_plates(uuid, text, timestamptz, timestamptz, boolean, integer, jsonb, jsonb),
    api.plate_history(uuid, text, timestamptz, timestamptz, boolean),
    api.canvass(uuid, jsonb, integer, jsonb),
    api.read_image(uuid, bigint),
    api.record_export(uuid, uuid[], text, integer, text, text),
    api.cameras(),
    api.hits(uuid, timestamptz, timestamptz),
    api.verify_hit(uuid, bigint, boolean, text),
    api.register_plate(uuid, text, text, text, timestamptz)
TO workbench_user;

GRANT EXECUTE ON FUNCTION
    api.hotlist_import(text, text, jsonb),
    api.hotlist_match(timestamptz, timestamptz),
    api.hotlist_cancel(bigint, text)
TO workbench_administrator;

GRANT EXECUTE ON FUNCTION api.whoami(), api.policy_summary()
TO workbench_user, workbench_supervisor, workbench_administrator, workbench_trainer;

GRANT EXECUTE ON FUNCTION
    api.admin_create_user(text, text, text, text),
    api.admin_set_active(text, boolean, text)
TO workbench_administrator;
GRANT EXECUTE ON FUNCTION api.record_authorization(text, text) TO workbench_supervisor;

GRANT EXECUTE ON FUNCTION api.admin_assign_case(text, text) TO workbench_administrator, workbench_supervisor;
GRANT EXECUTE ON FUNCTION api.verify_audit_chain(jsonb), api.audit_checkpoint() TO workbench_supervisor, workbench_administrator;
GRANT EXECUTE ON FUNCTION api.record_training(text, text, text, text, numeric, timestamptz)
    TO workbench_trainer, workbench_administrator;
