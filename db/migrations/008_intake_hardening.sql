-- HL7 over MLLP authenticates a connection by its source network alone, so
-- it is an explicit choice per integration, not a side effect of the
-- networks that limit where its API token may be used.
ALTER TABLE integrations ADD COLUMN mllp INTEGER NOT NULL DEFAULT 0;

-- The first download of any version of a delivered report: a corrected
-- report is a new document, but the patient already collected the report
-- (the clinic's pickup proof must survive the correction).
ALTER TABLE external_reports ADD COLUMN first_downloaded_at TIMESTAMP;
