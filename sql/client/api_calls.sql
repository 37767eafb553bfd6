-- The statements the Python client sends: calls of api functions by name, bind parameters only.
-- Each block starts with `-- name: NAME` (loaded by workbench/access/_statements.py).

-- name: whoami
SELECT * FROM api.whoami()

-- name: policy_summary
SELECT api.policy_summary() AS policy

-- name: open_access
SELECT * FROM api.open_access(:case_number, :purpose, :justification, CAST(:client AS jsonb))

-- name: fetch_result
SELECT api.fetch_result(CAST(:result_id AS uuid)) AS payload

-- name: search_plates
SELECT * FROM api.search_plates(CAST(:access_id AS uuid), :pattern, CAST(:start AS timestamptz),
                                CAST(:end AS timestamptz), :lookalike, :max_mistakes,
                                CAST(:area AS jsonb), CAST(:filters AS jsonb))

-- name: plate_history
SELECT * FROM api.plate_history(CAST(:access_id AS uuid), :plate, CAST(:start AS timestamptz),
                                CAST(:end AS timestamptz), :lookalike)

-- name: canvass
SELECT * FROM api.canvass(CAST(:access_id AS uuid), CAST(:scenes AS jsonb), :min_scenes, CAST(:filters AS jsonb))

-- name: read_image
SELECT * FROM api.read_image(CAST(:access_id AS uuid), :read_id)

-- name: record_export
SELECT * FROM api.record_export(CAST(:access_id AS uuid), CAST(:result_ids AS uuid[]), :format, :rows,
                                :sha256, :destination)

-- name: cameras
SELECT * FROM api.cameras()

-- name: verify_audit_chain
SELECT * FROM api.verify_audit_chain(CAST(:checkpoint AS jsonb))

-- name: audit_checkpoint
SELECT api.audit_checkpoint() AS checkpoint

-- name: unaudited_statements
SELECT * FROM api.unaudited_statements(CAST(:start AS timestamptz), CAST(:end AS timestamptz))

-- name: admin_create_user
SELECT * FROM api.admin_create_user(:login, :full_name, :role, :password)

-- name: record_authorization
SELECT * FROM api.record_authorization(:login, :authorization)

-- name: admin_set_active
SELECT * FROM api.admin_set_active(:login, :active, :reason)

-- name: admin_assign_case
SELECT * FROM api.admin_assign_case(:case_number, :login)

-- name: record_training
SELECT * FROM api.record_training(:login, :course, :kind, :version, :score, CAST(:completed_at AS timestamptz))

-- name: hits
SELECT * FROM api.hits(CAST(:access_id AS uuid), CAST(:start AS timestamptz), CAST(:end AS timestamptz))

-- name: verify_hit
SELECT * FROM api.verify_hit(CAST(:access_id AS uuid), :hit_id, :confirmed, :note)

-- name: register_plate
SELECT * FROM api.register_plate(CAST(:access_id AS uuid), :plate, :state, :reason, CAST(:expires_at AS timestamptz))

-- name: hotlist_import
SELECT * FROM api.hotlist_import(:name, :source, CAST(:entries AS jsonb))

-- name: hotlist_match
SELECT * FROM api.hotlist_match(CAST(:start AS timestamptz), CAST(:end AS timestamptz))

-- name: hotlist_cancel
SELECT * FROM api.hotlist_cancel(:entry_id, :reason)

-- name: register_footage
SELECT * FROM api.register_footage(CAST(:access_id AS uuid), CAST(:meta AS jsonb))

-- name: upload_footage_chunk
SELECT * FROM api.upload_footage_chunk(CAST(:access_id AS uuid), :footage_id, :seq, :content)

-- name: seal_footage
SELECT * FROM api.seal_footage(CAST(:access_id AS uuid), :footage_id)

-- name: ingest_footage_reads
SELECT * FROM api.ingest_footage_reads(CAST(:access_id AS uuid), :footage_id, CAST(:reads AS jsonb))

-- name: footage_content
SELECT * FROM api.footage_content(:footage_id, :seq)

-- name: sample_info
SELECT * FROM api.sample_info()

-- name: audit_review
SELECT * FROM api.audit_review(CAST(:start AS timestamptz), CAST(:end AS timestamptz), CAST(:filters AS jsonb))

-- name: retention_run
SELECT * FROM api.retention_run(:dry_run)

-- name: legal_hold_request
SELECT * FROM api.legal_hold_request(CAST(:access_id AS uuid), :plate, CAST(:start AS timestamptz),
                                     CAST(:end AS timestamptz), :reason, :contact)

-- name: decide_legal_hold
SELECT * FROM api.decide_legal_hold(:hold_id, :approve, :note)

-- name: legal_hold_reads
SELECT * FROM api.legal_hold_reads(CAST(:access_id AS uuid), :hold_id)

-- name: legal_hold_release
SELECT * FROM api.legal_hold_release(:hold_id, :reason)

-- name: legal_holds_due
SELECT * FROM api.legal_holds_due(:days)

-- name: sharing_record_agency
SELECT * FROM api.sharing_record_agency(:name, :agency_type, :state, :federal, :local, :agreement)

-- name: sharing_record_request
SELECT * FROM api.sharing_record_request(:agency, :requester, :purpose)

-- name: sharing_decide
SELECT * FROM api.sharing_decide(:request_id, :approve, :reason)

-- name: record_sharing_export
SELECT * FROM api.record_sharing_export(CAST(:access_id AS uuid), :request_id, CAST(:result_ids AS uuid[]), :format,
                                        :rows, :sha256)

-- name: search_deleted
SELECT * FROM api.search_deleted(CAST(:access_id AS uuid), :approval_id)

-- name: review_queue
SELECT * FROM api.review_queue(CAST(:start AS timestamptz), CAST(:end AS timestamptz))

-- name: review_signoff
SELECT * FROM api.review_signoff(:audit_id, :flag, :finding)

-- name: request_scope_approval
SELECT * FROM api.request_scope_approval(CAST(:access_id AS uuid), :function, :area_km2, :window_hours, :reason,
                                         :plates, :reads, CAST(:details AS jsonb))

-- name: decide_scope_approval
SELECT * FROM api.decide_scope_approval(:approval_id, :approve, :note, :valid_days)

-- name: scope_approvals
SELECT * FROM api.scope_approvals(:pending_only)

-- name: proportionality
SELECT * FROM api.proportionality(CAST(:start AS timestamptz), CAST(:end AS timestamptz))

-- name: admin_add_sensitive_place
SELECT * FROM api.admin_add_sensitive_place(:name, :kind, :lat, :lon, CAST(:radius_m AS real))

-- name: sensitive_places
SELECT * FROM api.sensitive_places()

-- name: start_training
SELECT api.start_training(:kind) AS outcome

-- name: submit_training
SELECT api.submit_training(:attempt_id, CAST(:answers AS jsonb)) AS outcome

-- name: training_overview
SELECT * FROM api.training_overview()

-- name: usage_report
SELECT * FROM api.usage_report(CAST(:start AS timestamptz), CAST(:end AS timestamptz), :public, :include_plates)

-- name: register_source
SELECT * FROM api.register_source(:name, :kind, :cameras_registered)

-- name: set_source_token
SELECT * FROM api.set_source_token(:name, :token_sha256)

-- name: register_camera
SELECT * FROM api.register_camera(:source, :camera_id, :name, :lat, :lon, CAST(:heading_deg AS real))

-- name: begin_import
SELECT * FROM api.begin_import(:source, :format, :file_name, :file_sha256)

-- name: finish_import
SELECT * FROM api.finish_import(CAST(:import_id AS uuid))

-- name: abandon_import
SELECT * FROM api.abandon_import(CAST(:import_id AS uuid), :reason)

-- name: feed_reads
SELECT * FROM api.feed_reads(:token_sha256, :format, CAST(:rows AS jsonb))

-- name: import_rejects
SELECT * FROM api.import_rejects(CAST(:import_id AS uuid), :limit)

-- name: transfer_status
SELECT * FROM api.transfer_status()

-- name: associates
SELECT * FROM api.associates(CAST(:access_id AS uuid), :plate, CAST(:start AS timestamptz), CAST(:end AS timestamptz), :within_seconds, :min_places)
