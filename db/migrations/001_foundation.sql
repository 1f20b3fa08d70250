-- Foundation: the clinic's registry (facilities, staff, patients, visits),
-- activation codes, encrypted reports, audit log, sessions and throttling.
-- Times are UTC TIMESTAMPs written by the driver.

CREATE TABLE facilities (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 2 AND 6),
    name       TEXT NOT NULL,
    address    TEXT NOT NULL DEFAULT '',
    phone      TEXT NOT NULL DEFAULT '',
    active     INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('admin', 'reception')),
    password_hash TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);

-- The front desk's registry: one row per person, unique by codice fiscale.
-- Online accounts (next issue) will link to patients through their own table.
CREATE TABLE patients (
    id          INTEGER PRIMARY KEY,
    fiscal_code TEXT NOT NULL UNIQUE,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    birth_date  TIMESTAMP NOT NULL,
    birth_place TEXT NOT NULL,
    sex         TEXT NOT NULL CHECK (sex IN ('M', 'F')),
    mobile      TEXT NOT NULL,
    email       TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX patients_mobile ON patients(mobile);
CREATE INDEX patients_name ON patients(last_name COLLATE NOCASE, first_name COLLATE NOCASE);

-- An acceptance ("accettazione"). The accession number is facility code,
-- year and a per-facility-per-year sequence.
CREATE TABLE visits (
    id             INTEGER PRIMARY KEY,
    patient_id     INTEGER NOT NULL REFERENCES patients(id),
    facility_id    INTEGER NOT NULL REFERENCES facilities(id),
    accession_year INTEGER NOT NULL,
    accession_seq  INTEGER NOT NULL,
    exams          TEXT NOT NULL,          -- one exam per line
    online_declined INTEGER NOT NULL DEFAULT 0,
    accepted_at    TIMESTAMP NOT NULL,
    accepted_by    INTEGER NOT NULL REFERENCES staff(id),
    UNIQUE (facility_id, accession_year, accession_seq)
);
CREATE INDEX visits_patient ON visits(patient_id);

-- Only a keyed MAC of the code is stored; the code itself exists on paper.
CREATE TABLE activation_codes (
    id         INTEGER PRIMARY KEY,
    visit_id   INTEGER NOT NULL REFERENCES visits(id),
    code_mac   BLOB NOT NULL UNIQUE,
    issued_at  TIMESTAMP NOT NULL,
    issued_by  INTEGER NOT NULL REFERENCES staff(id),
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    used_at    TIMESTAMP
);
CREATE INDEX activation_codes_visit ON activation_codes(visit_id);
CREATE INDEX activation_codes_expiry ON activation_codes(expires_at);

-- A report. complete=0 while its encrypted chunks are being written.
-- AUTOINCREMENT: ids of deleted reports are never reused, so audit rows
-- keep pointing at one report only.
CREATE TABLE documents (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    visit_id     INTEGER NOT NULL REFERENCES visits(id),
    title        TEXT NOT NULL,
    size         INTEGER NOT NULL DEFAULT 0,
    complete     INTEGER NOT NULL DEFAULT 0,
    uploaded_at  TIMESTAMP NOT NULL,
    uploaded_by  INTEGER NOT NULL REFERENCES staff(id),
    published_at TIMESTAMP,
    expires_at   TIMESTAMP
);
CREATE INDEX documents_visit ON documents(visit_id);
CREATE INDEX documents_expiry ON documents(expires_at);

-- Ciphertext of a document in order; deleting the document deletes them.
CREATE TABLE document_chunks (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    data        BLOB NOT NULL,
    PRIMARY KEY (document_id, seq)
) WITHOUT ROWID;

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    at          TIMESTAMP NOT NULL,
    actor_kind  TEXT NOT NULL,             -- staff, patient, system, cli
    actor_id    INTEGER,
    actor_name  TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL DEFAULT '',
    object_id   INTEGER,
    outcome     TEXT NOT NULL,             -- ok, denied, failed
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_at ON audit_events(at);
CREATE INDEX audit_events_object ON audit_events(object_type, object_id);
CREATE INDEX audit_events_action ON audit_events(action);

-- Server-side sessions; the token is stored as its SHA-256.
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    data       BLOB NOT NULL,
    expiry     TIMESTAMP NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expiry ON sessions(expiry);

-- Failed-login counters, kept in SQLite so a restart does not reset them.
CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    first_at     TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
) WITHOUT ROWID;
