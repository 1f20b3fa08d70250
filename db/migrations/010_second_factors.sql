-- Second factors of patients' accounts and of staff. Today an
-- authenticator app (kind 'totp', RFC 6238); a passkey will be another kind
-- in the same table, with the same name, dates and removal. The kinds are
-- checked in Go: a CHECK on them would need a table rebuild to add one.
-- Each factor belongs to exactly one account or one staff member.
CREATE TABLE auth_factors (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
    staff_id     INTEGER REFERENCES staff(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- The app's secret, sealed under the master key and bound to its owner
    -- (sealbox.SealValue); never stored in clear.
    secret       BLOB,
    -- The last time step whose code was accepted: a code is never accepted twice.
    last_step    INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    CHECK ((account_id IS NULL) <> (staff_id IS NULL)),
    CHECK (kind <> 'totp' OR secret IS NOT NULL)
);
CREATE INDEX auth_factors_account ON auth_factors(account_id);
CREATE INDEX auth_factors_staff ON auth_factors(staff_id);

-- Single-use recovery codes, for when the phone with the app is lost: only
-- a keyed MAC of each (sealbox.RecoveryCode, bound to the owner) is stored.
CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
    staff_id   INTEGER REFERENCES staff(id) ON DELETE CASCADE,
    code_mac   BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    CHECK ((account_id IS NULL) <> (staff_id IS NULL))
);
CREATE INDEX recovery_codes_account ON recovery_codes(account_id);
CREATE INDEX recovery_codes_staff ON recovery_codes(staff_id);

-- Staff sessions that started before this moment end (a new password, an
-- admin's reset of the factors); NULL for never.
ALTER TABLE staff ADD COLUMN sessions_valid_after TIMESTAMP;
-- When an admin last reset the member's factors, until the member has been
-- told at their next login.
ALTER TABLE staff ADD COLUMN mfa_reset_at TIMESTAMP;
