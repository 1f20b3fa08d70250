-- Family dossiers and the patient's control over online delivery.

-- Relatives an account holder registered from "Mio Profilo". Their mobile
-- and email are the holder's, so none are stored here.
CREATE TABLE relatives (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    fiscal_code TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    birth_date  TIMESTAMP NOT NULL,
    birth_place TEXT NOT NULL,
    sex         TEXT NOT NULL CHECK (sex IN ('M', 'F')),
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (account_id, fiscal_code)
);

-- A relative's dossier link goes with the relative: removing the relative
-- ends access at once.
ALTER TABLE dossier_links ADD COLUMN relative_id INTEGER REFERENCES relatives(id) ON DELETE CASCADE;

-- Online delivery turned off by the patient (or a holder for a relative):
-- no publication online, no notification, existing reports hidden, until
-- consent is given again. The desk sees it on the patient page.
ALTER TABLE patients ADD COLUMN online_disabled_at TIMESTAMP;
