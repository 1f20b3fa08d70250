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

-- Reports by email, protected (opt-in per dossier, per account): each new
-- report goes to the account's email as a PDF encrypted with AES-256 under
-- a password the patient chose, which never travels with it. The password
-- is kept only sealed under the master key and bound to the account and
-- dossier (sealbox.SealValue), because encrypting a PDF needs it.
CREATE TABLE email_deliveries (
    account_id      INTEGER NOT NULL,
    patient_id      INTEGER NOT NULL,
    password_sealed BLOB NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, patient_id),
    FOREIGN KEY (account_id, patient_id) REFERENCES dossier_links(account_id, patient_id) ON DELETE CASCADE
) WITHOUT ROWID;

-- The report a queued message carries as an attachment: the deliver job
-- encrypts it at sending time, so no copy of it waits in the queue.
ALTER TABLE outbox ADD COLUMN document_id INTEGER;
