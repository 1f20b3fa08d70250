-- Each audit event about a patient's data carries the patient, so a patient
-- can be shown who accessed their dossier and when (Garante, 2015), even
-- after the report itself has expired and been deleted.
ALTER TABLE audit_events ADD COLUMN patient_id INTEGER;
CREATE INDEX audit_events_patient ON audit_events(patient_id, at) WHERE patient_id IS NOT NULL;

UPDATE audit_events SET patient_id = CASE object_type
    WHEN 'patient' THEN object_id
    WHEN 'visit' THEN (SELECT patient_id FROM visits WHERE id = audit_events.object_id)
    WHEN 'document' THEN (SELECT v.patient_id FROM documents d JOIN visits v ON v.id = d.visit_id WHERE d.id = audit_events.object_id)
END;
