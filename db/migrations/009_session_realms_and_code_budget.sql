-- Staff and patient sessions share one table: the realm keeps them apart, so
-- a patient's token is unknown to the staff session manager and the other
-- way round. Sessions written before the realm existed cannot be told
-- apart safely: they end, and everyone logs in once more.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN realm TEXT NOT NULL DEFAULT '';

-- The SMS codes that count in the portal's daily budget: when each was
-- issued and for what, without the number or the account, so deleting an
-- account (which deletes its codes) does not give the budget back. Rows go
-- after a day, with the codes.
CREATE TABLE sms_code_budget (
    id         INTEGER PRIMARY KEY,
    purpose    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sms_code_budget_created ON sms_code_budget(created_at);
