-- Sharing with a doctor: a patient (or the holder, for a relative's
-- dossier) shares one report or the whole dossier under a code the doctor
-- types at /condivisi with the patient's birth date. Only a keyed MAC of
-- the code is stored. A share of the whole dossier shows the reports the
-- sharing account saw when it was made; it never outlives them.
CREATE TABLE shares (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    code_mac          BLOB NOT NULL UNIQUE,
    account_id        INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    patient_id        INTEGER NOT NULL REFERENCES patients(id),
    -- NULL: the whole dossier.
    document_id       INTEGER REFERENCES documents(id) ON DELETE CASCADE,
    -- The doctor sees the PDFs only: no titles, facilities, dates or name.
    pdf_only          INTEGER NOT NULL DEFAULT 0,
    -- Protected reports too: only the patient's own account may, explicitly.
    include_protected INTEGER NOT NULL DEFAULT 0,
    -- Made by the patient's own account: its events are the patient's only.
    by_patient        INTEGER NOT NULL DEFAULT 0,
    created_at        TIMESTAMP NOT NULL,
    expires_at        TIMESTAMP NOT NULL,
    revoked_at        TIMESTAMP
);
CREATE INDEX shares_account ON shares(account_id);
CREATE INDEX shares_patient ON shares(patient_id);
CREATE INDEX shares_expiry ON shares(expires_at);
