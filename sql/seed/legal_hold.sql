-- The sample legal hold: every read of one plate in a window, under a case.
WITH hold AS (
    INSERT INTO alpr.legal_holds (case_number, reason, investigator_contact, requested_by, status, decided_by,
                                  supervisor_approval, approved_at, decision_note, next_verification_due)
    SELECT %(case_number)s, %(reason)s, %(contact)s, 'investigator_ito', 'approved', 'supervisor_sato',
           'supervisor_sato', now(), 'Form 15.02.00 approved', (now() + interval '2 years')::date
    WHERE NOT EXISTS (SELECT 1 FROM alpr.legal_holds WHERE case_number = %(case_number)s)
    RETURNING hold_id)
INSERT INTO alpr.legal_hold_reads (hold_id, read_id, read_at)
SELECT hold.hold_id, r.read_id, r.read_at FROM hold, alpr.reads r
WHERE r.plate = %(plate)s AND r.read_at BETWEEN %(start)s AND %(stop)s;
