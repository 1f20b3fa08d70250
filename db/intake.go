package db

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"
)

// What became of a report an integration delivered, as GET tells it.
const (
	ReportDraft            = "draft"
	ReportPublished        = "published"
	ReportWithdrawn        = "withdrawn"
	ReportDeletedByPatient = "deleted_by_patient"
	ReportExpired          = "expired"
)

// What a PutExternalReport did.
const (
	PutCreated   = "created"   // a new report
	PutUnchanged = "unchanged" // the same PDF and title again: a retry
	PutReplaced  = "replaced"  // a new PDF for a report not yet published
	PutCorrected = "corrected" // a new PDF for a published report: referto rettificato
)

// Refusals of a new PDF for a report the patient already decided about.
var (
	ErrReportDeletedByPatient = errors.New("the patient deleted this report")
	ErrReportExpired          = errors.New("this report has expired and left the portal")
)

// ExternalPut is a report an integration delivers under its own id.
type ExternalPut struct {
	VisitID  int64
	ReportID string
	Title    string
	// Publish publishes the report at once (a correction always is).
	Publish   bool
	Retention time.Duration
	Notice    Notice
}

// PutResult says what PutExternalReport did.
type PutResult struct {
	Outcome    string
	DocumentID int64
	Published  bool
}

// PutExternalReport stores r as the report p.ReportID of the visit, through
// the one report pipeline (WriteDraft), and decides in one transaction what
// the delivery means:
//   - a report id never seen: a new report;
//   - the same PDF and title again: nothing changes (a retry after a lost
//     answer), publishing it if asked and not yet done;
//   - a new PDF for a report not yet published: it replaces the draft;
//   - a new PDF for a published report: a corrected report, published at
//     once in place of the old one, and the patient is told again;
//   - a report withdrawn by the clinic may be sent again; one the patient
//     deleted (ErrReportDeletedByPatient) or that expired (ErrReportExpired)
//     may not.
//
// Publishing follows the desk's rules (ErrOnlineDeclined, ErrOnlineDisabled),
// checked before the body is read when publication is asked for.
func (d *DB) PutExternalReport(ctx context.Context, p ExternalPut, r io.Reader, by Actor, now time.Time) (PutResult, error) {
	res, err := d.putExternalReport(ctx, p, r, by, now)
	if err != nil {
		return PutResult{}, fmt.Errorf("put report of visit %d: %w", p.VisitID, err)
	}
	return res, nil
}

func (d *DB) putExternalReport(ctx context.Context, p ExternalPut, r io.Reader, by Actor, now time.Time) (PutResult, error) {
	// Refusals that do not need the body come first, so a sender is not
	// made to upload a file that cannot be taken.
	prev, err := d.externalReport(ctx, d.r, p.VisitID, p.ReportID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return PutResult{}, err
	}
	if err == nil {
		if err := refuseResend(prev.State); err != nil {
			return PutResult{}, err
		}
		if prev.State == ReportPublished {
			p.Publish = true
		}
	}
	if p.Publish {
		if err := d.checkPublishable(ctx, p.VisitID); err != nil {
			return PutResult{}, err
		}
	}
	hash := sha256.New()
	draft, err := d.WriteDraft(ctx, p.VisitID, p.Title, io.TeeReader(r, hash), by, now)
	if err != nil {
		return PutResult{}, err
	}
	sum := hash.Sum(nil)
	var res PutResult
	err = d.tx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = settleExternalReport(ctx, tx, p, draft, sum, by, now)
		return err
	})
	if err != nil || res.Outcome == PutUnchanged {
		d.DiscardDrafts(context.WithoutCancel(ctx), []Draft{draft})
	}
	return res, err
}

func refuseResend(state string) error {
	switch state {
	case ReportDeletedByPatient:
		return ErrReportDeletedByPatient
	case ReportExpired:
		return ErrReportExpired
	}
	return nil
}

func (d *DB) checkPublishable(ctx context.Context, visitID int64) error {
	return d.tx(ctx, func(tx *sql.Tx) error { return mayPublish(ctx, tx, visitID) })
}

// settleExternalReport completes the draft as what the delivery means (see
// PutExternalReport), inside tx.
func settleExternalReport(ctx context.Context, tx *sql.Tx, p ExternalPut, draft Draft, sum []byte, by Actor, now time.Time) (PutResult, error) {
	prev, err := externalReportTx(ctx, tx, p.VisitID, p.ReportID)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return PutResult{}, err
	}
	if found {
		if err := refuseResend(prev.State); err != nil {
			return PutResult{}, err
		}
	}
	res := PutResult{Outcome: PutCreated, DocumentID: draft.ID, Published: p.Publish}
	live := found && (prev.State == ReportDraft || prev.State == ReportPublished)
	switch {
	case live && bytes.Equal(prev.sum, sum) && prev.Title == p.Title:
		res = PutResult{Outcome: PutUnchanged, DocumentID: prev.DocumentID, Published: prev.State == ReportPublished || p.Publish}
		if p.Publish && prev.State == ReportDraft {
			if err := mayPublish(ctx, tx, p.VisitID); err != nil {
				return PutResult{}, err
			}
			return res, publishDocuments(ctx, tx, p.VisitID, []int64{prev.DocumentID}, p.Retention, p.Notice, by, now)
		}
		return res, nil
	case live && prev.State == ReportPublished:
		res.Outcome, res.Published = PutCorrected, true
	case live:
		res.Outcome = PutReplaced
	}
	if err := completeDraft(ctx, tx, draft, by, now); err != nil {
		return PutResult{}, err
	}
	if live {
		action, detail := ActionReportReplace, fmt.Sprintf("replaced by document %d", draft.ID)
		if res.Outcome == PutCorrected {
			action = ActionReportCorrect
		}
		if err := insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: action, ObjectType: "document", ObjectID: prev.DocumentID,
			Detail: detail}); err != nil {
			return PutResult{}, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, prev.DocumentID); err != nil {
			return PutResult{}, err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO external_reports(visit_id, report_id, integration_id, document_id, content_sha256,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(visit_id, report_id) DO UPDATE SET document_id = excluded.document_id, content_sha256 = excluded.content_sha256,
		updated_at = excluded.updated_at`, p.VisitID, p.ReportID, by.ID, draft.ID, sum, now.UTC(), now.UTC()); err != nil {
		return PutResult{}, err
	}
	if !res.Published {
		return res, nil
	}
	if err := mayPublish(ctx, tx, p.VisitID); err != nil {
		return PutResult{}, err
	}
	return res, publishDocuments(ctx, tx, p.VisitID, []int64{draft.ID}, p.Retention, p.Notice, by, now)
}

// completeDraft makes one written draft visible, with its audit row.
func completeDraft(ctx context.Context, tx *sql.Tx, dr Draft, by Actor, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE documents SET complete = 1, size = ? WHERE id = ? AND complete = 0`, dr.Size, dr.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("draft %d: %w", dr.ID, ErrNotFound)
	}
	return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionReportUpload, ObjectType: "document", ObjectID: dr.ID,
		Detail: fmt.Sprintf("%d bytes", dr.Size)})
}

// WithdrawExternalReport withdraws the report the integration delivered as
// reportID (see WithdrawDocument). Withdrawing it again is not an error.
func (d *DB) WithdrawExternalReport(ctx context.Context, visitID int64, reportID string, by Actor, now time.Time) error {
	rep, err := d.externalReport(ctx, d.r, visitID, reportID)
	if err != nil {
		return fmt.Errorf("withdraw report of visit %d: %w", visitID, err)
	}
	if rep.State != ReportDraft && rep.State != ReportPublished {
		return nil
	}
	return d.WithdrawDocument(ctx, rep.DocumentID, by, now)
}
