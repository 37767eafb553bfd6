-- The guard against its own legitimate functions: answers parked with their counts (a call returns a
-- handle only), what each login has been given (the budget), quiz attempts that carry their own order,
-- and approvals given by people in their own sessions (legal holds, budgets, deleted-data searches).
SET LOCAL ROLE alpr_owner;

-- A parked answer is the whole answer: outcome, counts, message and warnings come with the fetch, never
-- with the call, so nothing that depends on ALPR data is seen before the audit row commits.
ALTER TABLE alpr.result_sets
    ADD COLUMN outcome text NOT NULL DEFAULT 'granted' CHECK (outcome IN ('granted', 'denied')),
    ADD COLUMN reason_code text,
    ADD COLUMN message text,
    ADD COLUMN row_count integer,
    ADD COLUMN warnings text[] NOT NULL DEFAULT '{}',
    ADD COLUMN capped jsonb;
ALTER TABLE alpr.result_sets ALTER COLUMN payload DROP NOT NULL;

-- Distinct reads (kind 1, the read id) and plates (kind 2, a 64-bit hash of the plate) each login was
-- given, per agency day and per case: the budget counts what is new, so refreshing a result costs nothing.
CREATE TABLE alpr.disclosed_by_day (
    db_user  text NOT NULL,
    day      date NOT NULL,
    kind     smallint NOT NULL CHECK (kind IN (1, 2)),
    item     bigint NOT NULL,
    PRIMARY KEY (db_user, day, kind, item)
);
CREATE TABLE alpr.disclosed_by_case (
    db_user      text NOT NULL,
    case_number  text NOT NULL,
    kind         smallint NOT NULL CHECK (kind IN (1, 2)),
    item         bigint NOT NULL,
    PRIMARY KEY (db_user, case_number, kind, item)
);
-- Running totals of the above (scope 'day' keyed by the ISO date, 'case' by the case number).
CREATE TABLE alpr.disclosure_totals (
    db_user          text NOT NULL,
    scope            text NOT NULL CHECK (scope IN ('day', 'case')),
    scope_key        text NOT NULL,
    reads            integer NOT NULL DEFAULT 0,
    plates           integer NOT NULL DEFAULT 0,
    harvest_flagged  boolean NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (db_user, scope, scope_key)
);

-- Approvals: a budget extension under a case (reads, plates), a pattern broader than the profile lets run
-- (plates), and a search of logically deleted data (its details), besides area and window.
ALTER TABLE alpr.scope_approvals DROP CONSTRAINT scope_approvals_function_name_check;
ALTER TABLE alpr.scope_approvals ADD CONSTRAINT scope_approvals_function_name_check
    CHECK (function_name IN ('search_plates', 'canvass', 'budget', 'search_deleted'));
ALTER TABLE alpr.scope_approvals ADD COLUMN reads integer CHECK (reads > 0),
                                 ADD COLUMN plates integer CHECK (plates > 0),
                                 ADD COLUMN details jsonb NOT NULL DEFAULT '{}';

-- A quiz attempt is started by the database, which keeps the order it showed (questions and choices
-- shuffled per attempt) and grades against it; answers arrive once, at submission.
ALTER TABLE alpr.training_attempts ALTER COLUMN answers DROP NOT NULL,
                                   ALTER COLUMN score DROP NOT NULL,
                                   ALTER COLUMN passed DROP NOT NULL,
                                   ADD COLUMN presented jsonb,
                                   ADD COLUMN submitted_at timestamptz;
UPDATE alpr.training_attempts SET submitted_at = attempted_at WHERE submitted_at IS NULL;

-- A legal hold protects nothing until a supervisor approves it in their own session.
ALTER TABLE alpr.legal_holds ADD COLUMN status text NOT NULL DEFAULT 'approved'
                                 CHECK (status IN ('pending', 'approved', 'refused')),
                             ADD COLUMN decided_by text,
                             ADD COLUMN decision_note text,
                             ALTER COLUMN supervisor_approval DROP NOT NULL,
                             ALTER COLUMN approved_at DROP NOT NULL,
                             ALTER COLUMN approved_at DROP DEFAULT,
                             ALTER COLUMN next_verification_due DROP NOT NULL;
-- Holds recorded before approvals were logins keep the approval as it was typed.
UPDATE alpr.legal_holds SET decided_by = supervisor_approval, decision_note = 'approval recorded as text before 0.2'
WHERE decided_by IS NULL;
ALTER TABLE alpr.legal_holds ALTER COLUMN status SET DEFAULT 'pending';

-- Internal jobs serialize on a row of their own: data users cannot lock it (advisory locks they could).
CREATE TABLE alpr.job_locks (job text PRIMARY KEY);
INSERT INTO alpr.job_locks VALUES ('retention_run'), ('audit_chain');

-- The part of the policy a missed question is about: what a failed attempt tells the trainee to reread.
ALTER TABLE alpr.training_questions ADD COLUMN section text;
