package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The two reasons a report goes on paper only. Both are enforced here, so
// no caller (desk, demo, intake) can publish around them.
var (
	// ErrOnlineDeclined means the patient declined online delivery at the
	// desk for this visit: nothing of it is uploaded or published online.
	ErrOnlineDeclined = errors.New("online delivery declined at the desk")
	// ErrOnlineDisabled means the patient turned online delivery off: reports
	// go on paper and nothing is published online.
	ErrOnlineDisabled = errors.New("online delivery turned off by the patient")
)

// Document is a report attached to a visit.
type Document struct {
	ID          int64
	VisitID     int64
	Title       string
	Size        int64
	UploadedAt  time.Time
	UploadedBy  int64
	PublishedAt time.Time
	ExpiresAt   time.Time
	// Protected is set when the report or its visit is marked "riservato";
	// MarkedProtected when the report itself is.
	Protected, MarkedProtected bool
	// HiddenAt is when the patient hid the report from the other accounts
	// linked to their dossier; zero while it is not hidden.
	HiddenAt time.Time
	// Pickup is whether and how the patient collected the report.
	Pickup Pickup
}

// Published reports whether the document has been published.
func (d Document) Published() bool { return !d.PublishedAt.IsZero() }

// HiddenFromOthers reports whether the patient hid the report from the
// other accounts linked to their dossier.
func (d Document) HiddenFromOthers() bool { return !d.HiddenAt.IsZero() }

// Pickup is the clinic's proof that a report was collected: the first
// online download (by which account) and a pickup on paper at the desk.
type Pickup struct {
	DownloadedAt time.Time
	// DownloadedBy is the account that downloaded it first (0 when not
	// known: before this was recorded, or a corrected report's earlier
	// version); DownloadedByName is "" once that account is deleted.
	DownloadedBy     int64
	DownloadedByName string
	PaperAt          time.Time
	// PaperBy is the username of the staff member who recorded it.
	PaperBy string
}

// Downloaded reports whether the report was downloaded or viewed online.
func (p Pickup) Downloaded() bool { return !p.DownloadedAt.IsZero() }

// OnPaper reports whether the desk recorded a pickup on paper.
func (p Pickup) OnPaper() bool { return !p.PaperAt.IsZero() }

// Collected reports whether the patient collected the report either way.
func (p Pickup) Collected() bool { return p.Downloaded() || p.OnPaper() }

// documentFrom and documentCols read a document with its visit's
// protection and its pickup; a corrected report keeps the first download
// of the version it replaced.
const (
	documentFrom = `documents d JOIN visits v ON v.id = d.visit_id`
	documentCols = `d.id, d.visit_id, d.title, d.size, d.uploaded_at, coalesce(d.uploaded_by, 0), d.published_at, d.expires_at,
	d.protected, ` + protectedDoc + `, CAST(d.hidden_at AS TEXT),
	CAST(coalesce(d.first_downloaded_at, (SELECT x.first_downloaded_at FROM external_reports x WHERE x.document_id = d.id)) AS TEXT),
	coalesce(d.first_downloaded_by, 0),
	coalesce((SELECT a.first_name || ' ' || a.last_name FROM accounts a WHERE a.id = d.first_downloaded_by), ''),
	CAST(d.paper_pickup_at AS TEXT), coalesce((SELECT s.username FROM staff s WHERE s.id = d.paper_pickup_by), '')`
)

func scanDocument(s interface{ Scan(...any) error }) (Document, error) {
	var doc Document
	var pub, exp sql.NullTime
	pk := &doc.Pickup
	err := s.Scan(&doc.ID, &doc.VisitID, &doc.Title, &doc.Size, &doc.UploadedAt, &doc.UploadedBy, &pub, &exp,
		&doc.MarkedProtected, &doc.Protected, timeText{&doc.HiddenAt}, timeText{&pk.DownloadedAt}, &pk.DownloadedBy,
		&pk.DownloadedByName, timeText{&pk.PaperAt}, &pk.PaperBy)
	doc.PublishedAt, doc.ExpiresAt = pub.Time, exp.Time
	return doc, mapErr(err)
}

// VisitDocuments lists the complete documents of a visit, oldest first.
func (d *DB) VisitDocuments(ctx context.Context, visitID int64) ([]Document, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+documentCols+` FROM `+documentFrom+` WHERE d.visit_id = ? AND d.complete ORDER BY d.id`, visitID)
	if err != nil {
		return nil, fmt.Errorf("documents of visit %d: %w", visitID, err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		doc, err := scanDocument(rows)
		if err != nil {
			return nil, fmt.Errorf("documents of visit %d: %w", visitID, err)
		}
		out = append(out, doc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("documents of visit %d: %w", visitID, err)
	}
	return out, nil
}

// Document returns one complete document.
func (d *DB) Document(ctx context.Context, id int64) (Document, error) {
	doc, err := scanDocument(d.r.QueryRowContext(ctx, `SELECT `+documentCols+` FROM `+documentFrom+` WHERE d.id = ? AND d.complete`, id))
	if err != nil {
		return doc, fmt.Errorf("document %d: %w", id, err)
	}
	return doc, nil
}

// Notice is the text of the "new document available" message. It must say
// nothing else: no exam, no department, no result, no name (Garante).
type Notice struct {
	SMS          string
	EmailSubject string
	EmailBody    string
	// AttachedSubject and AttachedBody are the email that carries the
	// report itself, encrypted, to an account that asked for it: it says
	// only that a document is attached. Empty: no such email.
	AttachedSubject, AttachedBody string
	// Langs is the same notice in the other languages an account may
	// speak, by Account.Lang ("en"): each account is told in its own. An
	// account whose language is not there gets the fields above.
	Langs map[string]Notice
}

// In is the notice in lang, an Account.Lang.
func (n Notice) In(lang string) Notice {
	if t, ok := n.Langs[lang]; ok {
		return t
	}
	return n
}

// PublishVisit publishes every uploaded, unpublished document of the visit
// with expires_at = now + retention, extends the visit's unused activation
// codes to the last report's expiry, and queues notice for every account
// that has the patient's dossier, per its preferences; all in one
// transaction. It returns how many documents were published.
func (d *DB) PublishVisit(ctx context.Context, visitID int64, retention time.Duration, notice Notice, by Actor, now time.Time) (int, error) {
	var n int
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if err := mayPublish(ctx, tx, visitID); err != nil {
			return err
		}
		policy := d.ProtectedReports()
		if err := refuseProtectedPaper(ctx, tx, policy, visitID, false); err != nil {
			return err
		}
		// Under the paper policy a report marked protected stays on paper
		// while the others of its visit go online.
		ids, err := queryIDs(ctx, tx, `SELECT id FROM documents WHERE visit_id = ? AND complete AND published_at IS NULL
			AND NOT (? AND protected)`, visitID, policy.PaperOnly())
		if err != nil {
			return err
		}
		n = len(ids)
		return publishDocuments(ctx, tx, visitID, ids, retention, notice, by, now)
	})
	if err != nil {
		return 0, fmt.Errorf("publish visit %d: %w", visitID, err)
	}
	return n, nil
}

// mayPublish enforces, inside tx, the two reasons a report goes on paper
// only: online delivery declined at the desk, or turned off by the patient.
func mayPublish(ctx context.Context, tx *sql.Tx, visitID int64) error {
	var declined bool
	var off sql.NullTime
	if err := tx.QueryRowContext(ctx, `SELECT v.online_declined, p.online_disabled_at FROM visits v
		JOIN patients p ON p.id = v.patient_id WHERE v.id = ?`, visitID).Scan(&declined, &off); err != nil {
		return mapErr(err)
	}
	switch {
	case declined:
		return ErrOnlineDeclined
	case off.Valid:
		return ErrOnlineDisabled
	}
	return nil
}

// publishDocuments publishes ids (complete documents of visitID) inside tx,
// after mayPublish: expires_at = now + retention, the visit's live codes
// extended to the reports' expiry, the notices queued.
func publishDocuments(ctx context.Context, tx *sql.Tx, visitID int64, ids []int64, retention time.Duration, notice Notice,
	by Actor, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	expires := now.Add(retention).UTC()
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET published_at = ?, expires_at = ? WHERE id = ?`, now.UTC(), expires, id); err != nil {
			return err
		}
		if err := insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionReportPublish, ObjectType: "document", ObjectID: id,
			Detail: fmt.Sprintf("visit %d, expires %s", visitID, expires.Format(time.DateOnly))}); err != nil {
			return err
		}
	}
	// Live codes now last as long as the reports; an expired code stays expired.
	if _, err := tx.ExecContext(ctx, `UPDATE activation_codes SET expires_at = ?
		WHERE visit_id = ? AND revoked_at IS NULL AND used_at IS NULL AND expires_at > ?`, expires, visitID, now.UTC()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE visits SET first_published_at = coalesce(first_published_at, ?) WHERE id = ?`,
		now.UTC(), visitID); err != nil {
		return err
	}
	if err := queueReportNotices(ctx, tx, visitID, notice, now); err != nil {
		return err
	}
	if notice.AttachedBody == "" {
		return nil
	}
	return queueEmailedReports(ctx, tx, visitID, notice, now)
}

// WithdrawDocument removes a wrongly uploaded report for good (row and
// ciphertext; secure_delete zeroes the pages).
func (d *DB) WithdrawDocument(ctx context.Context, docID int64, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error { return withdrawDocument(ctx, tx, docID, by, now) })
	if err != nil {
		return fmt.Errorf("withdraw document %d: %w", docID, err)
	}
	return nil
}

func withdrawDocument(ctx context.Context, tx *sql.Tx, docID int64, by Actor, now time.Time) error {
	var visitID int64
	var published sql.NullTime
	if err := tx.QueryRowContext(ctx, `SELECT visit_id, published_at FROM documents WHERE id = ?`, docID).Scan(&visitID, &published); err != nil {
		return mapErr(err)
	}
	detail := fmt.Sprintf("visit %d, unpublished", visitID)
	if published.Valid {
		detail = fmt.Sprintf("visit %d, was published", visitID)
	}
	if err := insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionReportWithdraw, ObjectType: "document", ObjectID: docID, Detail: detail}); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, docID)
	return err
}

// purgeBatch is how many documents one purge transaction deletes: each
// batch holds the only writer for milliseconds, so pages stay fast while
// a hundred thousand reports expire, and the WAL can be checkpointed
// between batches instead of growing by the whole purge.
const purgeBatch = 200

// DeleteExpiredDocuments removes published documents whose expiry has
// passed and drafts abandoned for more than an hour, auditing each expiry,
// in short batches.
func (d *DB) DeleteExpiredDocuments(ctx context.Context, now time.Time) (expired, abandoned int64, err error) {
	system := Actor{Kind: ActorSystem, Name: "expire"}
	for {
		start := time.Now()
		n, err := d.deleteBatch(ctx, `SELECT id FROM documents WHERE expires_at <= ? LIMIT ?`, now.UTC(),
			func(tx *sql.Tx, id int64) error {
				return insertAudit(ctx, tx, AuditEvent{At: now, Actor: system, Action: ActionReportExpire, ObjectType: "document", ObjectID: id})
			})
		expired += int64(n)
		if err != nil {
			return expired, abandoned, fmt.Errorf("delete expired documents: %w", err)
		}
		if n < purgeBatch {
			break
		}
		// Background work: after each batch the purge rests as long as the
		// batch took, so it never takes more than half a core from pages.
		if err := rest(ctx, time.Since(start)); err != nil {
			return expired, abandoned, fmt.Errorf("delete expired documents: %w", err)
		}
	}
	for {
		n, err := d.deleteBatch(ctx, `SELECT id FROM documents WHERE complete = 0 AND uploaded_at <= ? LIMIT ?`, now.Add(-time.Hour).UTC(), nil)
		abandoned += int64(n)
		if err != nil {
			return expired, abandoned, fmt.Errorf("delete abandoned drafts: %w", err)
		}
		if n < purgeBatch {
			break
		}
	}
	return expired, abandoned, nil
}

func rest(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// deleteBatch deletes, in one transaction, up to purgeBatch documents the
// query selects (its parameters: the time, then the limit), calling before
// for each one first.
func (d *DB) deleteBatch(ctx context.Context, query string, at time.Time, before func(*sql.Tx, int64) error) (int, error) {
	var n int
	err := d.tx(ctx, func(tx *sql.Tx) error {
		ids, err := queryIDs(ctx, tx, query, at, purgeBatch)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if before != nil {
				if err := before(tx, id); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, id); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// CountDocuments returns how many documents (any state) the database holds.
func (d *DB) CountDocuments(ctx context.Context) (int, error) {
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM documents`).Scan(&n); err != nil {
		return n, fmt.Errorf("count documents: %w", err)
	}
	return n, nil
}

// queueReportNotices queues notice, for the reports of the visit published
// at now, to each account that sees at least one of them, in the account's
// language: SMS, email or both, as the account chose. When they are all protected only the
// patient's own account is told; an account whose link ends at the
// patient's majority is told nothing published from then on.
func queueReportNotices(ctx context.Context, tx *sql.Tx, visitID int64, notice Notice, now time.Time) error {
	var open int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+documentFrom+` WHERE d.visit_id = ? AND d.published_at = ?
		AND NOT `+protectedDoc, visitID, now.UTC()).Scan(&open); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT a.id, v.patient_id, a.mobile, a.email, a.notify_sms, a.notify_email, a.lang FROM accounts a
		JOIN dossier_links l ON l.account_id = a.id JOIN visits v ON v.patient_id = l.patient_id
		JOIN patients p ON p.id = v.patient_id WHERE v.id = ? AND p.online_disabled_at IS NULL
		AND (? > 0 OR l.relation = 'self') AND (l.minor_until IS NULL OR l.minor_until > ?)`, visitID, open, now.UTC())
	if err != nil {
		return err
	}
	var msgs []OutboxMessage
	for rows.Next() {
		var id, patientID int64
		var mobile, email, lang string
		var sms, mail bool
		if err := rows.Scan(&id, &patientID, &mobile, &email, &sms, &mail, &lang); err != nil {
			rows.Close()
			return err
		}
		notice := notice.In(lang)
		if sms || (mail && email == "") {
			msgs = append(msgs, OutboxMessage{Channel: ChannelSMS, Recipient: mobile, Body: notice.SMS, Kind: "report_available",
				AccountID: id, PatientID: patientID})
		}
		if mail && email != "" {
			msgs = append(msgs, OutboxMessage{Channel: ChannelEmail, Recipient: email, Subject: notice.EmailSubject,
				Body: notice.EmailBody, Kind: "report_available", AccountID: id, PatientID: patientID})
		}
	}
	rows.Close()
	for _, m := range msgs {
		if err := insertOutbox(ctx, tx, m, now); err != nil {
			return err
		}
	}
	return rows.Err()
}
