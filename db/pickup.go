package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RecordPaperPickup records that the patient collected a report on paper
// at the desk (the clinic's proof, L. 412/1991), audited. Recording it
// again keeps the first pickup and changes nothing.
func (d *DB) RecordPaperPickup(ctx context.Context, docID int64, by Actor, now time.Time) (Document, error) {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE documents SET paper_pickup_at = ?, paper_pickup_by = ?
			WHERE id = ? AND complete AND paper_pickup_at IS NULL`, now.UTC(), by.staffID(), docID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			return mapErr(tx.QueryRowContext(ctx, `SELECT 1 FROM documents WHERE id = ? AND complete`, docID).Scan(&one))
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionReportPaperPickup, ObjectType: "document", ObjectID: docID})
	})
	if err != nil {
		return Document{}, fmt.Errorf("record paper pickup of document %d: %w", docID, err)
	}
	return d.Document(ctx, docID)
}

// UncollectedReport is a published report nobody collected, with whom to
// call about it.
type UncollectedReport struct {
	Document
	Patient   Patient
	Accession string
}

// UncollectedReports lists the facility's reports online for at least
// days that were neither downloaded nor picked up on paper, and have not
// left the portal yet, oldest first: whom the desk calls.
func (d *DB) UncollectedReports(ctx context.Context, facilityID int64, days int, now time.Time) ([]UncollectedReport, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+documentCols+`, p.id, p.fiscal_code, p.first_name, p.last_name, p.mobile, p.email,
		f.code, v.accession_year, v.accession_seq
		FROM `+documentFrom+` JOIN patients p ON p.id = v.patient_id JOIN facilities f ON f.id = v.facility_id
		WHERE v.facility_id = ? AND d.complete AND d.published_at <= ? AND d.expires_at > ?
		AND d.first_downloaded_at IS NULL AND d.paper_pickup_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM external_reports x WHERE x.document_id = d.id AND x.first_downloaded_at IS NOT NULL)
		ORDER BY d.published_at, d.id LIMIT 500`, facilityID, now.Add(-time.Duration(days)*24*time.Hour).UTC(), now.UTC())
	if err != nil {
		return nil, fmt.Errorf("uncollected reports of facility %d: %w", facilityID, err)
	}
	defer rows.Close()
	var out []UncollectedReport
	for rows.Next() {
		var r UncollectedReport
		var code string
		var year, seq int
		doc, err := scanDocument(extraScanner{rows, []any{&r.Patient.ID, &r.Patient.FiscalCode, &r.Patient.FirstName,
			&r.Patient.LastName, &r.Patient.Mobile, &r.Patient.Email, &code, &year, &seq}})
		if err != nil {
			return nil, fmt.Errorf("uncollected reports of facility %d: %w", facilityID, err)
		}
		r.Document = doc
		r.Accession = Visit{FacilityCode: code, AccessionYear: year, AccessionSeq: seq}.AccessionNumber()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("uncollected reports of facility %d: %w", facilityID, err)
	}
	return out, nil
}

// extraScanner scans a row into scanDocument's columns and then extra.
type extraScanner struct {
	s     interface{ Scan(...any) error }
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.s.Scan(append(dest, e.extra...)...) }
