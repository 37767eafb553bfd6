-- Footage is evidence: the file itself is registered (sha256, size, duration, frames, uploader) and kept in a
-- content-addressed store before any read of it is saved; reads are ingested only from registered, sealed
-- footage of the caller's own case, on the camera record the database made for it, once per review.
SET LOCAL ROLE alpr_owner;

-- The content-addressed store: one copy of each file, by its sha256, in chunks.
CREATE TABLE alpr.evidence_files (
    sha256      text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes  bigint NOT NULL CHECK (size_bytes > 0),
    sealed_at   timestamptz
);
CREATE TABLE alpr.evidence_chunks (
    sha256   text NOT NULL REFERENCES alpr.evidence_files,
    seq      integer NOT NULL CHECK (seq >= 0),
    content  bytea NOT NULL,
    PRIMARY KEY (sha256, seq)
);

-- A footage file as registered under a case: what it is, who brought it, what its clock said.
CREATE TABLE alpr.footage (
    footage_id      bigserial PRIMARY KEY,
    case_number     text NOT NULL,
    sha256          text NOT NULL REFERENCES alpr.evidence_files,
    file_name       text NOT NULL,
    media_type      text NOT NULL,
    size_bytes      bigint NOT NULL,
    duration_s      double precision NOT NULL CHECK (duration_s >= 0),
    frame_count     integer NOT NULL CHECK (frame_count > 0),
    recorded_start  timestamptz NOT NULL,
    clock_offset_s  double precision NOT NULL DEFAULT 0,
    camera_id       text NOT NULL REFERENCES alpr.cameras,
    uploaded_by     text NOT NULL DEFAULT session_user,
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_number, sha256)
);

-- One ingest per footage and review: a retry of a committed one gets the first answer back.
CREATE TABLE alpr.footage_ingests (
    ingest_key   text PRIMARY KEY,
    footage_id   bigint NOT NULL REFERENCES alpr.footage,
    audit_id     bigint NOT NULL,
    answer       jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A footage read keeps its footage, the reviewer's decision and the OCR's own text.
ALTER TABLE alpr.reads ADD COLUMN footage_id bigint,
                       ADD COLUMN review_decision text CHECK (review_decision IN ('confirmed', 'corrected')),
                       ADD COLUMN ocr_text text;

-- The server log is the cluster's: lines from before this database existed (a dropped namesake's) are not its.
ALTER TABLE alpr.deployment ADD COLUMN log_from timestamptz NOT NULL DEFAULT now();
-- Statements of the second record are matched to audit rows session by session.
CREATE INDEX server_log_events_session ON alpr.server_log_events (session_id, event_id);
