-- The patient side: online accounts, dossier links, one-time SMS codes and
-- the notification outbox.

-- AUTOINCREMENT: a deleted account's id is never given to a new account,
-- so a leftover session or an audit row can never point at someone else.
CREATE TABLE accounts (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    first_name          TEXT NOT NULL,
    last_name           TEXT NOT NULL,
    mobile              TEXT NOT NULL UNIQUE,      -- E.164, verified by SMS
    email               TEXT NOT NULL DEFAULT '',  -- lower case; '' when none
    password_hash       TEXT NOT NULL,
    login_otp           INTEGER NOT NULL DEFAULT 0,
    notify_sms          INTEGER NOT NULL DEFAULT 1,
    notify_email        INTEGER NOT NULL DEFAULT 0,
    privacy_version     TEXT NOT NULL,
    privacy_accepted_at TIMESTAMP NOT NULL,
    -- Sessions authenticated before this instant are void (password reset,
    -- account deletion): one update ends every session of the account.
    sessions_valid_after TIMESTAMP NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    last_login_at       TIMESTAMP
);
CREATE UNIQUE INDEX accounts_email ON accounts(email) WHERE email <> '';

-- A dossier an account can see: its holder's own (relation 'self') or a
-- relative's (next issue). The consent is the dossier's own privacy notice.
CREATE TABLE dossier_links (
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    patient_id      INTEGER NOT NULL REFERENCES patients(id),
    relation        TEXT NOT NULL DEFAULT 'self',
    privacy_version TEXT NOT NULL,
    consented_at    TIMESTAMP NOT NULL,
    activated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, patient_id)
) WITHOUT ROWID;
CREATE INDEX dossier_links_patient ON dossier_links(patient_id);

ALTER TABLE activation_codes ADD COLUMN used_by_account INTEGER REFERENCES accounts(id) ON DELETE SET NULL;
ALTER TABLE documents ADD COLUMN first_downloaded_at TIMESTAMP;
-- Set at the first publication, so a visit whose reports have expired is not
-- shown again as "in preparazione".
ALTER TABLE visits ADD COLUMN first_published_at TIMESTAMP;

-- One-time SMS codes (registration, login, password reset, contact change).
-- Only a keyed MAC of the code is stored; the browser session that asked for
-- it holds the row id, which binds the code to that session.
CREATE TABLE otp_codes (
    id         INTEGER PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('register', 'login', 'reset', 'contact')),
    account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
    mobile     TEXT NOT NULL,
    code_mac   BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    used_at    TIMESTAMP
);
CREATE INDEX otp_codes_mobile ON otp_codes(mobile, created_at);
CREATE INDEX otp_codes_account ON otp_codes(account_id, created_at);

-- Transactional outbox: a message is queued in the same transaction as the
-- event that causes it, and the deliver job sends it with retries.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL,
    kind            TEXT NOT NULL,            -- report_available, security
    account_id      INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
    -- The dossier a report notice is about: turning the dossier off or
    -- resetting it drops the notices not yet sent.
    patient_id      INTEGER REFERENCES patients(id),
    created_at      TIMESTAMP NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         TIMESTAMP,
    failed_at       TIMESTAMP
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
