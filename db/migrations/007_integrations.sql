-- fse:foreign-keys-off
-- Integrations: the clinic's own systems (HIS/CUP, LIS, RIS) that create
-- visits and deliver reports without a person at a keyboard. Visits, codes
-- and documents may now come from an integration instead of a staff member,
-- so their "by" columns are rebuilt as nullable with an integration column
-- beside them. (SQLite cannot relax a NOT NULL or add a foreign key in
-- place: each table is copied into its new shape, with foreign keys off
-- for this migration only and checked before it commits.)

CREATE TABLE integrations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    facility_id  INTEGER NOT NULL REFERENCES facilities(id),
    scopes       TEXT NOT NULL,              -- comma-separated: visits, reports
    allow_cidrs  TEXT NOT NULL DEFAULT '',   -- comma-separated; '' = any network
    auto_publish INTEGER NOT NULL DEFAULT 0, -- hot folder and MLLP publish at once
    token_hash   BLOB NOT NULL UNIQUE,       -- SHA-256 of the bearer token
    created_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP,
    last_used_at TIMESTAMP
);

CREATE TABLE visits_new (
    id                 INTEGER PRIMARY KEY,
    patient_id         INTEGER NOT NULL REFERENCES patients(id),
    facility_id        INTEGER NOT NULL REFERENCES facilities(id),
    accession_year     INTEGER NOT NULL,
    accession_seq      INTEGER NOT NULL,
    exams              TEXT NOT NULL,
    online_declined    INTEGER NOT NULL DEFAULT 0,
    accepted_at        TIMESTAMP NOT NULL,
    accepted_by        INTEGER REFERENCES staff(id),
    first_published_at TIMESTAMP,
    accepted_by_integration INTEGER REFERENCES integrations(id),
    -- The HIS's own id of the acceptance: a retry finds the same visit.
    external_id        TEXT,
    UNIQUE (facility_id, accession_year, accession_seq),
    UNIQUE (facility_id, external_id),
    CHECK (accepted_by IS NOT NULL OR accepted_by_integration IS NOT NULL)
);
INSERT INTO visits_new (id, patient_id, facility_id, accession_year, accession_seq, exams, online_declined, accepted_at,
    accepted_by, first_published_at)
SELECT id, patient_id, facility_id, accession_year, accession_seq, exams, online_declined, accepted_at,
    accepted_by, first_published_at FROM visits;
DROP TABLE visits;
ALTER TABLE visits_new RENAME TO visits;
CREATE INDEX visits_patient ON visits(patient_id);

CREATE TABLE activation_codes_new (
    id              INTEGER PRIMARY KEY,
    visit_id        INTEGER NOT NULL REFERENCES visits(id),
    code_mac        BLOB NOT NULL UNIQUE,
    issued_at       TIMESTAMP NOT NULL,
    issued_by       INTEGER REFERENCES staff(id),
    expires_at      TIMESTAMP NOT NULL,
    revoked_at      TIMESTAMP,
    used_at         TIMESTAMP,
    used_by_account INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    issued_by_integration INTEGER REFERENCES integrations(id)
);
INSERT INTO activation_codes_new (id, visit_id, code_mac, issued_at, issued_by, expires_at, revoked_at, used_at, used_by_account)
SELECT id, visit_id, code_mac, issued_at, issued_by, expires_at, revoked_at, used_at, used_by_account FROM activation_codes;
DROP TABLE activation_codes;
ALTER TABLE activation_codes_new RENAME TO activation_codes;
CREATE INDEX activation_codes_visit ON activation_codes(visit_id);
CREATE INDEX activation_codes_expiry ON activation_codes(expires_at);

CREATE TABLE documents_new (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    visit_id            INTEGER NOT NULL REFERENCES visits(id),
    title               TEXT NOT NULL,
    size                INTEGER NOT NULL DEFAULT 0,
    complete            INTEGER NOT NULL DEFAULT 0,
    uploaded_at         TIMESTAMP NOT NULL,
    uploaded_by         INTEGER REFERENCES staff(id),
    published_at        TIMESTAMP,
    expires_at          TIMESTAMP,
    first_downloaded_at TIMESTAMP,
    uploaded_by_integration INTEGER REFERENCES integrations(id)
);
INSERT INTO documents_new (id, visit_id, title, size, complete, uploaded_at, uploaded_by, published_at, expires_at, first_downloaded_at)
SELECT id, visit_id, title, size, complete, uploaded_at, uploaded_by, published_at, expires_at, first_downloaded_at FROM documents;
-- Report ids are never reused: the new table continues the old sequence.
DELETE FROM sqlite_sequence WHERE name = 'documents_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'documents_new', seq FROM sqlite_sequence WHERE name = 'documents';
DROP TABLE documents;
ALTER TABLE documents_new RENAME TO documents;
CREATE INDEX documents_visit ON documents(visit_id);
CREATE INDEX documents_expiry ON documents(expires_at);

-- A report an integration delivered, by the sender's own id: a retry finds
-- it, a new PDF for a published one is a corrected report. document_id is
-- the current document and has no foreign key on purpose: the row outlives
-- the document (withdrawn, deleted by the patient, expired), so the sender
-- can still be told what became of it.
CREATE TABLE external_reports (
    visit_id       INTEGER NOT NULL REFERENCES visits(id),
    report_id      TEXT NOT NULL,
    integration_id INTEGER NOT NULL REFERENCES integrations(id),
    document_id    INTEGER NOT NULL,
    content_sha256 BLOB NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (visit_id, report_id)
) WITHOUT ROWID;
CREATE INDEX external_reports_document ON external_reports(document_id);
