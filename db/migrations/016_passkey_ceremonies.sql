-- Passkey login ceremonies under way, by the SHA-256 of the state kept in
-- the person's session. A browser's answer is accepted only if its ceremony
-- is still here, and taking it is one DELETE: two copies of one answer sent
-- at once (each request reading the session before the other saved it)
-- cannot both log in, even with a passkey whose signature counter stays 0.
-- Rows of ceremonies never answered are deleted once expired.
CREATE TABLE passkey_ceremonies (
    id         BLOB PRIMARY KEY,
    expires_at TIMESTAMP NOT NULL
) WITHOUT ROWID;
CREATE INDEX passkey_ceremonies_expiry ON passkey_ceremonies(expires_at);
