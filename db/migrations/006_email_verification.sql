-- An email address becomes an account's (for login and notifications) only
-- after its owner confirms a link sent to it. Until then it waits here and
-- blocks nobody else.
CREATE TABLE email_verifications (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    token_mac  BLOB NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
