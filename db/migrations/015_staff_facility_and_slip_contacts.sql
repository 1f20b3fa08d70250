-- The facility a staff member works at (set by an admin): the acceptance
-- form and the desk's lists open on it instead of the first facility by
-- name. NULL for none; a facility that is later disabled is simply not
-- offered.
ALTER TABLE staff ADD COLUMN facility_id INTEGER REFERENCES facilities(id);

-- What the pickup slip prints for the patient at home, edited by admins:
-- whom to call or write for help with the online service, and the data
-- controller's and the DPO's contacts, which the service's privacy notice
-- says are on the slip. One row for the whole clinic group.
CREATE TABLE slip_contacts (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    help_phone  TEXT NOT NULL DEFAULT '',
    help_email  TEXT NOT NULL DEFAULT '',
    controller  TEXT NOT NULL DEFAULT '',
    dpo         TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMP,
    updated_by  INTEGER REFERENCES staff(id)
);
INSERT INTO slip_contacts(id) VALUES (1);
