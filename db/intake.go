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

// What a PutExternalReports did with one report.
const (
	PutCreated   = "created"   // a new report
	PutUnchanged = "unchanged" // the same PDF and title again: a retry
	PutReplaced  = "replaced"  // a new PDF for a report not yet published
	PutCorrected = "corrected" // a new PDF for a published report: referto rettificato
)

// Refusals of a delivery.
var (
	ErrReportDeletedByPatient = errors.New("the patient deleted this report")
	ErrReportExpired          = errors.New("this report has expired and left the portal")
	// ErrReportOfAnother means the report id belongs to a report another
	// integration delivered: integrations never overwrite each other.
	ErrReportOfAnother = errors.New("this report id belongs to a report another integration delivered")
)

// ExternalPut is a report an integration delivers under its own id.
type ExternalPut struct {
	VisitID  int64
	ReportID string
	Title    string
	Body     io.Reader
	// Publish publishes the report at once (a correction always is).
	Publish   bool
	Retention time.Duration
	Notice    Notice
	// Protected marks the report "riservato" (see ProtectedPolicy).
	Protected bool
}

// PutResult says what PutExternalReports did with one report.
type PutResult struct {
	Outcome    string
	DocumentID int64
	Published  bool
}

// PutExternalReports stores reports an integration delivers, all or none:
// each PDF streams through the one report pipeline (WriteDraft) into a
// draft, then one transaction decides what each delivery means and commits
// them together, so a refusal of the last report of a FHIR Bundle or an
// HL7 message leaves nothing of the others. For each report:
//   - a report id never seen: a new report;
//   - the same PDF and title again: nothing changes (a retry after a lost
//     answer), publishing it if asked and not yet done;
//   - a new PDF for a report not yet published: it replaces the draft;
//   - a new PDF for a published report: a corrected report, published at
//     once in place of the old one and announced again (while the patient
//     has the service off, it replaces the old one silently);
//   - a report withdrawn by the clinic may be sent again; one the patient
//     deleted (ErrReportDeletedByPatient) or that expired (ErrReportExpired)
//     may not, and another integration's never (ErrReportOfAnother).
//
// Publishing follows the desk's rules (ErrOnlineDeclined, ErrOnlineDisabled),
// checked before any body is read.
func (d *DB) PutExternalReports(ctx context.Context, puts []ExternalPut, by Actor, now time.Time) ([]PutResult, error) {
	res, err := d.putExternalReports(ctx, puts, by, now)
	if err != nil {
		return nil, fmt.Errorf("put %d reports: %w", len(puts), err)
	}
	return res, nil
}

func (d *DB) putExternalReports(ctx context.Context, puts []ExternalPut, by Actor, now time.Time) ([]PutResult, error) {
	// Refusals that do not need a body come first, so a sender is not made
	// to upload files that cannot be taken.
	for _, p := range puts {
		if err := d.precheck(ctx, p, by); err != nil {
			return nil, err
		}
	}
	drafts := make([]Draft, 0, len(puts))
	sums := make([][]byte, 0, len(puts))
	discard := func() { d.DiscardDrafts(context.WithoutCancel(ctx), drafts) }
	for _, p := range puts {
		hash := sha256.New()
		draft, err := d.WriteDraft(ctx, p.VisitID, p.Title, io.TeeReader(p.Body, hash), by, now)
		if err != nil {
			discard()
			return nil, err
		}
		drafts, sums = append(drafts, draft), append(sums, hash.Sum(nil))
	}
	results := make([]PutResult, len(puts))
	err := d.tx(ctx, func(tx *sql.Tx) error {
		publish := map[int64][]int64{}
		var notices []publication
		for i, p := range puts {
			res, err := settleExternalReport(ctx, tx, p, drafts[i], sums[i], by, now)
			if err != nil {
				return fmt.Errorf("report %q: %w", p.ReportID, err)
			}
			results[i] = res.PutResult
			if res.publish {
				if _, seen := publish[p.VisitID]; !seen {
					notices = append(notices, publication{p.VisitID, p.Retention, p.Notice})
				}
				publish[p.VisitID] = append(publish[p.VisitID], res.DocumentID)
			}
		}
		// One publication, and one notice, per visit.
		for _, n := range notices {
			if err := publishDocuments(ctx, tx, n.visitID, publish[n.visitID], n.retention, n.notice, by, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		discard()
		return nil, err
	}
	var unused []Draft
	for i, r := range results {
		if r.Outcome == PutUnchanged {
			unused = append(unused, drafts[i])
		}
	}
	d.DiscardDrafts(context.WithoutCancel(ctx), unused)
	return results, nil
}

type publication struct {
	visitID   int64
	retention time.Duration
	notice    Notice
}

// precheck refuses, before any body is read, what can be refused without it.
func (d *DB) precheck(ctx context.Context, p ExternalPut, by Actor) error {
	// A protected report never reaches the portal while protected reports
	// go on paper only: it is not even stored.
	if err := d.tx(ctx, func(tx *sql.Tx) error {
		return refuseProtectedPaper(ctx, tx, d.ProtectedReports(), p.VisitID, p.Protected)
	}); err != nil {
		return err
	}
	prev, err := d.externalReport(ctx, d.r, p.VisitID, p.ReportID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	correction := false
	if err == nil {
		if err := refuseResend(prev, by); err != nil {
			return err
		}
		correction = prev.State == ReportPublished
	}
	if !p.Publish && !correction {
		return nil
	}
	err = d.tx(ctx, func(tx *sql.Tx) error { return mayPublish(ctx, tx, p.VisitID) })
	if correction && errors.Is(err, ErrOnlineDisabled) {
		return nil // the correction replaces the old report, silently
	}
	return err
}

func refuseResend(prev VisitReport, by Actor) error {
	switch {
	case prev.integrationID != 0 && prev.integrationID != by.ID:
		return ErrReportOfAnother
	case prev.State == ReportDeletedByPatient:
		return ErrReportDeletedByPatient
	case prev.State == ReportExpired:
		return ErrReportExpired
	}
	return nil
}

// settled is a delivery decided inside the transaction.
type settled struct {
	PutResult
	// publish asks for DocumentID to be published with the visit's others.
	publish bool
}

// settleExternalReport completes one draft as what its delivery means (see
// PutExternalReports), inside tx; publication is left to the caller.
func settleExternalReport(ctx context.Context, tx *sql.Tx, p ExternalPut, draft Draft, sum []byte, by Actor, now time.Time) (settled, error) {
	prev, err := externalReportTx(ctx, tx, p.VisitID, p.ReportID)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return settled{}, err
	}
	if found {
		if err := refuseResend(prev, by); err != nil {
			return settled{}, err
		}
	}
	live := found && (prev.State == ReportDraft || prev.State == ReportPublished)
	if live && bytes.Equal(prev.sum, sum) && prev.Title == p.Title {
		// A retry may add the protected mark, never take it away.
		if p.Protected {
			if _, err := tx.ExecContext(ctx, `UPDATE documents SET protected = 1 WHERE id = ?`, prev.DocumentID); err != nil {
				return settled{}, err
			}
		}
		publish := p.Publish && prev.State == ReportDraft
		if publish {
			if err := mayPublish(ctx, tx, p.VisitID); err != nil {
				return settled{}, err
			}
		}
		return settled{PutResult{PutUnchanged, prev.DocumentID, prev.State == ReportPublished || publish}, publish}, nil
	}
	res := settled{PutResult{PutCreated, draft.ID, p.Publish}, p.Publish}
	switch {
	case live && prev.State == ReportPublished:
		res.Outcome, res.Published, res.publish = PutCorrected, true, true
	case live:
		res.Outcome = PutReplaced
	}
	if res.publish {
		if err := mayPublish(ctx, tx, p.VisitID); err != nil && !(res.Outcome == PutCorrected && errors.Is(err, ErrOnlineDisabled)) {
			return settled{}, err
		}
	}
	if err := completeDraft(ctx, tx, draft, by, now); err != nil {
		return settled{}, err
	}
	if p.Protected {
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET protected = 1 WHERE id = ?`, draft.ID); err != nil {
			return settled{}, err
		}
	}
	if live {
		if err := replaceDocument(ctx, tx, prev, draft.ID, res.Outcome, by, now); err != nil {
			return settled{}, err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO external_reports(visit_id, report_id, integration_id, document_id, content_sha256,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(visit_id, report_id) DO UPDATE SET document_id = excluded.document_id, content_sha256 = excluded.content_sha256,
		updated_at = excluded.updated_at`, p.VisitID, p.ReportID, by.ID, draft.ID, sum, now.UTC(), now.UTC()); err != nil {
		return settled{}, err
	}
	return res, nil
}

// replaceDocument deletes the document a new version replaces, keeping in
// the audit log what happened and, for the clinic, when the patient first
// collected the report.
func replaceDocument(ctx context.Context, tx *sql.Tx, prev VisitReport, newID int64, outcome string, by Actor, now time.Time) error {
	action := ActionReportReplace
	if outcome == PutCorrected {
		action = ActionReportCorrect
	}
	if err := insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: action, ObjectType: "document", ObjectID: prev.DocumentID,
		Detail: fmt.Sprintf("replaced by document %d", newID)}); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE external_reports SET first_downloaded_at = coalesce(first_downloaded_at,
		(SELECT first_downloaded_at FROM documents WHERE id = ?)) WHERE document_id = ?`, prev.DocumentID, prev.DocumentID); err != nil {
		return err
	}
	// The new version stays as protected, and as hidden from the other
	// accounts, as the one it replaces.
	if _, err := tx.ExecContext(ctx, `UPDATE documents SET protected = protected OR (SELECT protected FROM documents WHERE id = ?1),
		hidden_at = (SELECT hidden_at FROM documents WHERE id = ?1) WHERE id = ?2`, prev.DocumentID, newID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, prev.DocumentID)
	return err
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

// WithdrawExternalReport withdraws, in one transaction, the report the
// integration delivered as reportID. Withdrawing it again is not an error;
// another integration's report is ErrReportOfAnother.
func (d *DB) WithdrawExternalReport(ctx context.Context, visitID int64, reportID string, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		rep, err := externalReportTx(ctx, tx, visitID, reportID)
		if err != nil {
			return err
		}
		if rep.integrationID != by.ID {
			return ErrReportOfAnother
		}
		if rep.State != ReportDraft && rep.State != ReportPublished {
			return nil
		}
		return withdrawDocument(ctx, tx, rep.DocumentID, by, now)
	})
	if err != nil {
		return fmt.Errorf("withdraw report of visit %d: %w", visitID, err)
	}
	return nil
}
