-- A relative's dossier managed while the patient is a minor: the link ends
-- when the patient turns 18 (the majority job), and no report published
-- from that moment is ever visible through it. minor_until is midnight of
-- the 18th birthday in Rome, in UTC; NULL for the patient's own link and
-- for a relative who was already an adult when linked (an elderly parent).
ALTER TABLE dossier_links ADD COLUMN minor_until TIMESTAMP;

-- Links made before this column existed: midnight in Rome is 22:00 UTC the
-- day before in summer time (from the day after the last Sunday of March
-- to the last Sunday of October), 23:00 UTC otherwise.
UPDATE dossier_links SET minor_until = (
    SELECT datetime(m.day, CASE WHEN m.day > date(substr(m.day, 1, 4) || '-03-31', '-6 days', 'weekday 0')
                                 AND m.day <= date(substr(m.day, 1, 4) || '-10-31', '-6 days', 'weekday 0')
                            THEN '-2 hours' ELSE '-1 hours' END) || '+00:00'
    FROM (SELECT date(p.birth_date, '+18 years') AS day FROM patients p WHERE p.id = dossier_links.patient_id) m)
WHERE relation = 'family';
UPDATE dossier_links SET minor_until = NULL WHERE minor_until IS NOT NULL AND minor_until <= activated_at;

-- Patients whose relatives' links ended at 18: the desk's patient page says
-- that the young adult may now activate an account of their own.
CREATE TABLE majority_transfers (
    patient_id   INTEGER PRIMARY KEY REFERENCES patients(id),
    came_of_age  TIMESTAMP NOT NULL,
    links_ended  INTEGER NOT NULL,
    done_at      TIMESTAMP NOT NULL
);

-- Pickup proof (L. 412/1991 lets a clinic charge for reports never
-- collected): who downloaded a report first online (an account id, kept
-- after the account is deleted), and a pickup on paper recorded at the desk.
ALTER TABLE documents ADD COLUMN first_downloaded_by INTEGER;
ALTER TABLE documents ADD COLUMN paper_pickup_at TIMESTAMP;
ALTER TABLE documents ADD COLUMN paper_pickup_by INTEGER REFERENCES staff(id);

-- The one reminder before a report that was never collected leaves the
-- portal (--expiry-reminder-days).
ALTER TABLE documents ADD COLUMN expiry_notice_at TIMESTAMP;
CREATE INDEX documents_expiry_notice ON documents(expires_at) WHERE expiry_notice_at IS NULL AND first_downloaded_at IS NULL;
