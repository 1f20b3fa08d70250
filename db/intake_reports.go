package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// VisitReport is a report of a visit as a sending system sees it: its
// state, and when the patient first downloaded it (the clinic's pickup
// proof). Reports the desk uploaded have no ReportID.
type VisitReport struct {
	ReportID          string
	DocumentID        int64
	Title             string
	State             string
	Size              int64
	UploadedAt        time.Time
	PublishedAt       time.Time
	ExpiresAt         time.Time
	FirstDownloadedAt time.Time
	// sum is the SHA-256 of the stored PDF, to recognise a retry.
	sum []byte
	// integrationID is who delivered it: no other integration may touch it.
	integrationID int64
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// externalReport reads one delivered report with its state.
func (d *DB) externalReport(ctx context.Context, q querier, visitID int64, reportID string) (VisitReport, error) {
	return externalReportQ(ctx, q, visitID, reportID)
}

func externalReportTx(ctx context.Context, tx *sql.Tx, visitID int64, reportID string) (VisitReport, error) {
	return externalReportQ(ctx, tx, visitID, reportID)
}

func externalReportQ(ctx context.Context, q querier, visitID int64, reportID string) (VisitReport, error) {
	rows, err := q.QueryContext(ctx, visitReportsQuery+` WHERE x.visit_id = ? AND x.report_id = ?`, visitID, reportID)
	if err != nil {
		return VisitReport{}, err
	}
	reps, err := scanVisitReports(ctx, q, rows)
	if err != nil {
		return VisitReport{}, err
	}
	if len(reps) == 0 {
		return VisitReport{}, ErrNotFound
	}
	return reps[0], nil
}

// visitReportsQuery reads delivered reports with their current document,
// which is missing once withdrawn, deleted or expired.
const visitReportsQuery = `SELECT x.report_id, x.document_id, x.content_sha256, x.integration_id, x.created_at, coalesce(d.title, ''),
	coalesce(d.size, 0), d.uploaded_at, d.published_at, d.expires_at, coalesce(x.first_downloaded_at, d.first_downloaded_at), d.id IS NOT NULL
	FROM external_reports x LEFT JOIN documents d ON d.id = x.document_id AND d.complete`

func scanVisitReports(ctx context.Context, q querier, rows *sql.Rows) ([]VisitReport, error) {
	var out []VisitReport
	for rows.Next() {
		var r VisitReport
		var created time.Time
		var uploaded, published, expires sql.NullTime
		var first sql.NullString
		var present bool
		if err := rows.Scan(&r.ReportID, &r.DocumentID, &r.sum, &r.integrationID, &created, &r.Title, &r.Size, &uploaded, &published, &expires,
			&first, &present); err != nil {
			rows.Close()
			return nil, err
		}
		r.UploadedAt, r.PublishedAt, r.ExpiresAt = uploaded.Time, published.Time, expires.Time
		if first.Valid {
			// coalesce() loses the column type: the time comes as text.
			t, err := parseTime(first.String)
			if err != nil {
				rows.Close()
				return nil, err
			}
			r.FirstDownloadedAt = t
		}
		switch {
		case present && published.Valid:
			r.State = ReportPublished
		case present:
			r.State = ReportDraft
		default:
			r.UploadedAt = created
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// A report whose document is gone: what happened is in the audit log,
	// which keeps its downloads too.
	for i := range out {
		if out[i].State != "" {
			continue
		}
		if err := fillFromAudit(ctx, q, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func fillFromAudit(ctx context.Context, q querier, r *VisitReport) error {
	var action string
	var first sql.NullString
	err := q.QueryRowContext(ctx, `SELECT
		coalesce((SELECT action FROM audit_events WHERE object_type = 'document' AND object_id = ?1
			AND action IN (?2, ?3, ?4) ORDER BY id DESC LIMIT 1), ?2),
		(SELECT min(at) FROM audit_events WHERE object_type = 'document' AND object_id = ?1 AND action IN (?5, ?6))`,
		r.DocumentID, ActionReportWithdraw, ActionReportDeleteByPatient, ActionReportExpire, ActionReportDownload, ActionReportViewOnline).
		Scan(&action, &first)
	if err != nil {
		return err
	}
	r.State = map[string]string{ActionReportWithdraw: ReportWithdrawn, ActionReportDeleteByPatient: ReportDeletedByPatient,
		ActionReportExpire: ReportExpired}[action]
	if first.Valid && r.FirstDownloadedAt.IsZero() {
		t, err := parseTime(first.String)
		if err != nil {
			return err
		}
		r.FirstDownloadedAt = t
	}
	return nil
}

// VisitReports lists every report of a visit with its state: those the
// integrations delivered (including withdrawn, deleted and expired ones,
// by their ids) and those the desk uploaded.
func (d *DB) VisitReports(ctx context.Context, visitID int64) ([]VisitReport, error) {
	rows, err := d.r.QueryContext(ctx, visitReportsQuery+` WHERE x.visit_id = ? ORDER BY x.created_at, x.report_id`, visitID)
	if err != nil {
		return nil, fmt.Errorf("reports of visit %d: %w", visitID, err)
	}
	out, err := scanVisitReports(ctx, d.r, rows)
	if err != nil {
		return nil, fmt.Errorf("reports of visit %d: %w", visitID, err)
	}
	// Reports the desk uploaded, which have no sender's id.
	rows, err = d.r.QueryContext(ctx, `SELECT id, title, size, uploaded_at, published_at, expires_at, first_downloaded_at
		FROM documents WHERE visit_id = ? AND complete
		AND id NOT IN (SELECT document_id FROM external_reports WHERE visit_id = ?) ORDER BY id`, visitID, visitID)
	if err != nil {
		return nil, fmt.Errorf("reports of visit %d: %w", visitID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r VisitReport
		var published, expires, first sql.NullTime
		if err := rows.Scan(&r.DocumentID, &r.Title, &r.Size, &r.UploadedAt, &published, &expires, &first); err != nil {
			return nil, fmt.Errorf("reports of visit %d: %w", visitID, err)
		}
		r.PublishedAt, r.ExpiresAt, r.FirstDownloadedAt = published.Time, expires.Time, first.Time
		r.State = ReportDraft
		if published.Valid {
			r.State = ReportPublished
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reports of visit %d: %w", visitID, err)
	}
	return out, nil
}
