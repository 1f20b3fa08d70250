package db

import (
	"context"
	"fmt"
	"time"
)

// VisitToPublish is a visit whose uploaded reports wait to be published,
// with its patient: the desk's list "da pubblicare".
type VisitToPublish struct {
	Visit   Visit
	Patient Patient
	// Waiting counts the reports that could go online now.
	Waiting int
	// OldestUpload is when the longest-waiting of them was uploaded.
	OldestUpload time.Time
}

// VisitsToPublish lists the facility's visits with reports uploaded and
// not yet published, longest waiting first. Only reports the desk can
// publish count: not those of a visit whose online delivery was declined,
// of a patient who turned the service off, nor protected ones while they
// go on paper only.
func (d *DB) VisitsToPublish(ctx context.Context, facilityID int64, limit int) ([]VisitToPublish, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+visitCols+`, p.fiscal_code, p.first_name, p.last_name, w.n, w.oldest
		FROM (SELECT d.visit_id, count(*) AS n, CAST(min(d.uploaded_at) AS TEXT) AS oldest
		      FROM `+documentFrom+` WHERE v.facility_id = ? AND d.complete AND d.published_at IS NULL
		      AND NOT v.online_declined AND (? = 0 OR NOT `+protectedDoc+`) GROUP BY d.visit_id) w
		JOIN visits v ON v.id = w.visit_id JOIN facilities f ON f.id = v.facility_id JOIN patients p ON p.id = v.patient_id
		WHERE p.online_disabled_at IS NULL
		ORDER BY w.oldest, v.id LIMIT ?`, facilityID, d.ProtectedReports().PaperOnly(), limit)
	if err != nil {
		return nil, fmt.Errorf("visits to publish of facility %d: %w", facilityID, err)
	}
	defer rows.Close()
	var out []VisitToPublish
	for rows.Next() {
		var r VisitToPublish
		var oldest string
		if r.Visit, err = scanVisit(rows, &r.Patient.FiscalCode, &r.Patient.FirstName, &r.Patient.LastName, &r.Waiting, &oldest); err != nil {
			return nil, fmt.Errorf("visits to publish of facility %d: %w", facilityID, err)
		}
		if r.OldestUpload, err = parseTime(oldest); err != nil {
			return nil, fmt.Errorf("visits to publish of facility %d: %w", facilityID, err)
		}
		r.Patient.ID = r.Visit.PatientID
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("visits to publish of facility %d: %w", facilityID, err)
	}
	return out, nil
}
