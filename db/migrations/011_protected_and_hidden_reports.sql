-- Protected reports ("prestazioni a tutela dell'anonimato": HIV tests,
-- sexual violence, voluntary termination of pregnancy, addiction services,
-- anonymous birth), marked "riservato" by the desk or a clinic system on
-- the whole visit or on one report. What that means online is the server's
-- --protected-reports setting: never published (paper), or visible only in
-- the patient's own account (self).
ALTER TABLE visits ADD COLUMN protected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN protected INTEGER NOT NULL DEFAULT 0;

-- A report the patient hid ("oscuramento") from every other account linked
-- to their dossier (a parent, a spouse): set by the patient's own account,
-- cleared when they show it again.
ALTER TABLE documents ADD COLUMN hidden_at TIMESTAMP;

-- Audit events only the patient's own account is shown in its access
-- history: those about a protected or hidden report, and the patient's own
-- choices about them. A relative's account must not learn that something
-- exists that it cannot see.
ALTER TABLE audit_events ADD COLUMN patient_only INTEGER NOT NULL DEFAULT 0;
