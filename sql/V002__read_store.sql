-- The read store and its registries. Owned by alpr_owner; no other role has any privilege here.
SET LOCAL ROLE alpr_owner;

CREATE TABLE alpr.policy_profile (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    key         text NOT NULL,
    profile     jsonb NOT NULL,
    sha256      text NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alpr.cameras (
    camera_id   text PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('fixed', 'mobile', 'footage', 'commercial', 'shared')),
    location    geography(Point, 4326),
    heading_deg real CHECK (heading_deg IS NULL OR heading_deg BETWEEN 0 AND 360),
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE alpr.read_images (
    image_id    bigserial PRIMARY KEY,
    sha256      text NOT NULL UNIQUE,
    kind        text NOT NULL CHECK (kind IN ('plate', 'overview')),
    media_type  text NOT NULL DEFAULT 'image/jpeg',
    width       integer,
    height      integer,
    content     bytea NOT NULL
);

CREATE SEQUENCE alpr.reads_read_id_seq;

-- Partitioned by month on read time: retention drops whole months; searches prune by window.
CREATE TABLE alpr.reads (
    read_id              bigint NOT NULL DEFAULT nextval('alpr.reads_read_id_seq'),
    read_at              timestamptz NOT NULL,
    plate_raw            text NOT NULL,
    plate                text NOT NULL CHECK (plate ~ '^[A-Z0-9]{1,10}$'),
    plate_skeleton       text NOT NULL,
    state                char(2),
    location             geography(Point, 4326) NOT NULL,
    camera_id            text NOT NULL REFERENCES alpr.cameras (camera_id),
    source               text NOT NULL CHECK (source IN ('fixed', 'mobile', 'footage', 'commercial', 'shared')),
    confidence           real CHECK (confidence IS NULL OR confidence BETWEEN 0 AND 1),
    plate_image_id       bigint,
    overview_image_id    bigint,
    vehicle_make         text,
    vehicle_color        text,
    case_number          text,
    verified_by          text,
    verified_at          timestamptz,
    ocr_alternatives     jsonb,
    logically_deleted_at timestamptz,
    PRIMARY KEY (read_id, read_at)
) PARTITION BY RANGE (read_at);

CREATE INDEX reads_plate_time ON alpr.reads (plate, read_at);
CREATE INDEX reads_skeleton_time ON alpr.reads (plate_skeleton, read_at);
CREATE INDEX reads_camera_time ON alpr.reads (camera_id, read_at);
-- Canvass: space and time in one GiST (btree_gist supplies the timestamptz operator class).
CREATE INDEX reads_location_time ON alpr.reads USING gist (location, read_at);

-- Distinct plates: partial-plate patterns run over this small table, then fetch reads by (plate, time).
CREATE TABLE alpr.plates (
    plate       text PRIMARY KEY,
    skeleton    text NOT NULL,
    plate_length smallint NOT NULL,
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL
);
CREATE INDEX plates_trgm ON alpr.plates USING gin (plate gin_trgm_ops);
CREATE INDEX plates_skeleton_trgm ON alpr.plates USING gin (skeleton gin_trgm_ops);
CREATE INDEX plates_length ON alpr.plates (plate_length);

CREATE TABLE alpr.users (
    user_id                  serial PRIMARY KEY,
    login                    text NOT NULL UNIQUE,
    full_name                text NOT NULL,
    role                     text NOT NULL CHECK (role IN ('data_user', 'administrator', 'supervisor', 'trainer')),
    active                   boolean NOT NULL DEFAULT true,
    supervisor_authorization text,
    authorized_by            text,
    authorized_at            timestamptz,
    deactivated_at           timestamptz,
    deactivation_reason      text,
    last_data_access_at      timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alpr.training_records (
    record_id     bigserial PRIMARY KEY,
    user_id       integer NOT NULL REFERENCES alpr.users,
    course        text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('initial', 'refresher', 'reorientation', 'administrator', 'in_person')),
    version       text NOT NULL,
    score         numeric(5, 4) CHECK (score BETWEEN 0 AND 1),
    passed        boolean NOT NULL,
    completed_at  timestamptz NOT NULL DEFAULT now(),
    trainer       text,
    recorded_by   text NOT NULL DEFAULT session_user
);
CREATE INDEX training_user_time ON alpr.training_records (user_id, completed_at DESC);

CREATE TABLE alpr.cases (
    case_number       text PRIMARY KEY,
    title             text NOT NULL,
    offense_category  text,
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opened_at         timestamptz NOT NULL DEFAULT now(),
    closed_at         timestamptz
);

CREATE TABLE alpr.case_assignments (
    case_number text NOT NULL REFERENCES alpr.cases ON DELETE CASCADE,
    user_id     integer NOT NULL REFERENCES alpr.users,
    PRIMARY KEY (case_number, user_id)
);

CREATE TABLE alpr.hotlists (
    hotlist_id  serial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    source      text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    imported_by text NOT NULL DEFAULT session_user
);

CREATE TABLE alpr.hotlist_entries (
    entry_id       bigserial PRIMARY KEY,
    hotlist_id     integer NOT NULL REFERENCES alpr.hotlists ON DELETE CASCADE,
    plate          text NOT NULL,
    skeleton       text NOT NULL,
    state          char(2),
    reason         text NOT NULL,
    source         text NOT NULL,
    expires_at     timestamptz,
    case_number    text,
    registered_by  text,
    cancelled_at   timestamptz,
    cancelled_by   text,
    cancel_reason  text
);
CREATE INDEX hotlist_entries_plate ON alpr.hotlist_entries (plate);
CREATE INDEX hotlist_entries_skeleton ON alpr.hotlist_entries (skeleton);

CREATE TABLE alpr.hits (
    hit_id            bigserial PRIMARY KEY,
    read_id           bigint NOT NULL,
    read_at           timestamptz NOT NULL,
    entry_id          bigint NOT NULL REFERENCES alpr.hotlist_entries,
    match_kind        text NOT NULL CHECK (match_kind IN ('exact', 'lookalike')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    verified_at       timestamptz,
    verified_by       text,
    verification_note text,
    UNIQUE (read_id, entry_id)
);

CREATE TABLE alpr.legal_holds (
    hold_id               serial PRIMARY KEY,
    case_number           text NOT NULL,
    reason                text NOT NULL,
    investigator_contact  text NOT NULL,
    requested_by          text NOT NULL,
    supervisor_approval   text NOT NULL,
    approved_at           timestamptz NOT NULL DEFAULT now(),
    next_verification_due date NOT NULL,
    released_at           timestamptz,
    released_by           text,
    release_reason        text
);

CREATE TABLE alpr.legal_hold_reads (
    hold_id integer NOT NULL REFERENCES alpr.legal_holds,
    read_id bigint NOT NULL,
    read_at timestamptz NOT NULL,
    PRIMARY KEY (hold_id, read_id)
);
CREATE INDEX legal_hold_reads_read ON alpr.legal_hold_reads (read_id);

CREATE TABLE alpr.sharing_agencies (
    agency_name          text PRIMARY KEY,
    agency_type          text NOT NULL,
    state                char(2) NOT NULL,
    federal              boolean NOT NULL DEFAULT false,
    local                boolean NOT NULL DEFAULT true,
    agreement_reference  text
);

CREATE TABLE alpr.sharing_requests (
    request_id        serial PRIMARY KEY,
    agency_name       text NOT NULL,
    requester_name    text NOT NULL,
    intended_purpose  text NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    recorded_by       text NOT NULL DEFAULT session_user,
    reviewer          text,
    decision          text CHECK (decision IN ('approved', 'refused')),
    decided_at        timestamptz,
    decision_reason   text
);

-- Access sessions: an access id is bound to the login that opened it and expires.
CREATE TABLE alpr.access_sessions (
    access_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        integer NOT NULL REFERENCES alpr.users,
    db_user        text NOT NULL,
    case_number    text NOT NULL,
    purpose        text NOT NULL,
    justification  text NOT NULL,
    opened_at      timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    client         jsonb NOT NULL DEFAULT '{}'
);

-- Query results wait here until the transaction that audited them has committed (see api.fetch_result).
CREATE TABLE alpr.result_sets (
    result_id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    access_id    uuid NOT NULL,
    db_user      text NOT NULL,
    audit_id     bigint NOT NULL,
    created_xid  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    kind         text NOT NULL,
    payload      jsonb NOT NULL
);
CREATE INDEX result_sets_created ON alpr.result_sets (created_at);
