-- Supervisor review and training: sensitive places (First Amendment), scope approvals (proportionality),
-- the quiz question bank graded in the database, and each quiz attempt.
SET LOCAL ROLE alpr_owner;

-- Places whose visitors' movements are protected activity (Long Beach 6.3.3.1): a search or canvass
-- whose area comes near one is flagged for the supervisor.
CREATE TABLE alpr.sensitive_places (
    place_id   serial PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('place_of_worship', 'health_clinic', 'protest_site', 'other')),
    location   geography(Point, 4326) NOT NULL,
    radius_m   real NOT NULL CHECK (radius_m > 0 AND radius_m <= 2000),
    added_by   text NOT NULL DEFAULT session_user,
    added_at   timestamptz NOT NULL DEFAULT now(),
    active     boolean NOT NULL DEFAULT true
);
CREATE INDEX sensitive_places_location ON alpr.sensitive_places USING gist (location);

-- A query whose scope is above the profile's approval thresholds runs only under an approval a supervisor
-- gave beforehand, for that user, case and kind of query, up to the approved size, until it expires.
CREATE TABLE alpr.scope_approvals (
    approval_id    serial PRIMARY KEY,
    db_user        text NOT NULL,
    case_number    text NOT NULL,
    function_name  text NOT NULL CHECK (function_name IN ('search_plates', 'canvass')),
    area_km2       numeric,
    window_hours   numeric,
    reason         text NOT NULL,
    requested_at   timestamptz NOT NULL DEFAULT now(),
    decision       text CHECK (decision IN ('approved', 'refused')),
    decided_by     text,
    decided_at     timestamptz,
    decision_note  text,
    expires_at     timestamptz
);
CREATE INDEX scope_approvals_user_case ON alpr.scope_approvals (db_user, case_number);

-- The quiz: built from the profile when it is stored; trainees see questions and choices, never answers.
CREATE TABLE alpr.training_questions (
    question_no  integer PRIMARY KEY,
    topic        text NOT NULL,
    question     text NOT NULL,
    choices      jsonb NOT NULL,
    answer       integer NOT NULL,
    explanation  text NOT NULL,
    version      text NOT NULL
);

CREATE TABLE alpr.training_attempts (
    attempt_id    bigserial PRIMARY KEY,
    user_id       integer NOT NULL REFERENCES alpr.users,
    kind          text NOT NULL,
    version       text NOT NULL,
    answers       jsonb NOT NULL,
    score         numeric(5, 4) NOT NULL,
    passed        boolean NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now()
);
