package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ActorShare is a doctor who opened a share with its code: no account, only
// the share (its id) and the address.
const ActorShare = "share"

// The lifetimes a patient may give a share.
const (
	MinShareLifetime = time.Hour
	MaxShareLifetime = 14 * 24 * time.Hour
)

// Share refusals; callers explain each in their own language.
var (
	// ErrShareInvalid covers an unknown, revoked or expired code, a wrong
	// birth date and a dossier no longer linked: the doctor gets one answer.
	ErrShareInvalid = errors.New("share code or birth date not valid")
	// ErrShareLifetime means a lifetime outside 1 hour to 14 days.
	ErrShareLifetime = errors.New("a share lasts from 1 hour to 14 days")
	// ErrShareProtected means protected reports were to be shared without
	// the patient's own account saying so explicitly.
	ErrShareProtected = errors.New("protected reports are shared only by the patient's own account, explicitly")
	// ErrShareEmpty means there is no report to share.
	ErrShareEmpty = errors.New("no report to share")
)

// Share is what a patient shared with a doctor.
type Share struct {
	ID        int64
	AccountID int64
	PatientID int64
	// DocumentID is the one report shared; 0 for the whole dossier.
	DocumentID       int64
	PDFOnly          bool
	IncludeProtected bool
	// ByPatient is set when the patient's own account made the share.
	ByPatient bool
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time
	// For lists: the patient, the shared report's title ("" for the whole
	// dossier or once it is gone), the account that made it.
	PatientName, DocumentTitle, CreatedBy string
}

// Active tells whether the share can still be opened at now.
func (s Share) Active(now time.Time) bool { return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt) }

// Actor is the doctor using the share, from ip, for the audit log.
func (s Share) Actor(ip string) Actor {
	return Actor{Kind: ActorShare, ID: s.ID, Name: fmt.Sprintf("condivisione n. %d", s.ID), IP: ip}
}

// ShareRequest is a patient's request to share with a doctor.
type ShareRequest struct {
	AccountID, PatientID int64
	// DocumentID is the one report to share; 0 for the whole dossier.
	DocumentID int64
	// CodeMAC is the keyed MAC of the share code (sealbox.ShareCode).
	CodeMAC          []byte
	Lifetime         time.Duration
	PDFOnly          bool
	IncludeProtected bool
}

const shareCols = `s.id, s.account_id, s.patient_id, coalesce(s.document_id, 0), s.pdf_only, s.include_protected, s.by_patient,
	CAST(s.created_at AS TEXT), CAST(s.expires_at AS TEXT), CAST(s.revoked_at AS TEXT)`

func scanShare(sc interface{ Scan(...any) error }, extra ...any) (Share, error) {
	var s Share
	err := sc.Scan(append([]any{&s.ID, &s.AccountID, &s.PatientID, &s.DocumentID, &s.PDFOnly, &s.IncludeProtected, &s.ByPatient,
		timeText{&s.CreatedAt}, timeText{&s.ExpiresAt}, timeText{&s.RevokedAt}}, extra...)...)
	return s, mapErr(err)
}

// CreateShare shares one report, or the whole dossier, of a dossier the
// account has, under the code's MAC, for the lifetime asked but never past
// the shared reports' own expiry. Protected reports are shared only by the
// patient's own account with IncludeProtected (ErrShareProtected); a
// report the account does not see is ErrNotFound. Audited.
func (d *DB) CreateShare(ctx context.Context, r ShareRequest, by Actor, now time.Time) (Share, error) {
	if r.Lifetime < MinShareLifetime || r.Lifetime > MaxShareLifetime {
		return Share{}, ErrShareLifetime
	}
	var id int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		l, err := loadLink(ctx, tx, r.AccountID, r.PatientID)
		if err != nil {
			return err
		}
		own := l.Relation == RelationSelf
		if r.IncludeProtected && !own {
			return ErrShareProtected
		}
		var last sql.NullString
		var protected bool
		if r.DocumentID != 0 {
			err = tx.QueryRowContext(ctx, `SELECT CAST(d.expires_at AS TEXT), `+protectedDoc+` FROM `+visibleReports+`
				WHERE d.id = ? AND l.account_id = ? AND v.patient_id = ? AND `+visibleAt,
				r.DocumentID, r.AccountID, r.PatientID, now.UTC()).Scan(&last, &protected)
			if err != nil {
				return mapErr(err)
			}
			if protected && !r.IncludeProtected {
				return ErrShareProtected
			}
		} else if err := tx.QueryRowContext(ctx, `SELECT CAST(max(d.expires_at) AS TEXT) FROM `+visibleReports+`
			WHERE l.account_id = ? AND v.patient_id = ? AND `+visibleAt+` AND (NOT `+protectedDoc+` OR ?)`,
			r.AccountID, r.PatientID, now.UTC(), r.IncludeProtected).Scan(&last); err != nil {
			return err
		}
		if !last.Valid {
			return ErrShareEmpty
		}
		expires, err := parseTime(last.String)
		if err != nil {
			return err
		}
		expires = minTime(expires, now.Add(r.Lifetime))
		var doc any
		if r.DocumentID != 0 {
			doc = r.DocumentID
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO shares(code_mac, account_id, patient_id, document_id, pdf_only, include_protected,
			by_patient, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.CodeMAC, r.AccountID, r.PatientID, doc, r.PDFOnly, r.IncludeProtected, own, now.UTC(), expires.UTC())
		if err != nil {
			return mapErr(err)
		}
		id, _ = res.LastInsertId()
		what := "whole dossier"
		if r.DocumentID != 0 {
			what = fmt.Sprintf("report %d", r.DocumentID)
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionShareCreate, ObjectType: "patient", ObjectID: r.PatientID,
			Detail: fmt.Sprintf("share %d: %s until %s, pdf only %t, protected %t", id, what, expires.UTC().Format(time.RFC3339),
				r.PDFOnly, r.IncludeProtected), PatientOnly: own})
	})
	if err != nil {
		return Share{}, fmt.Errorf("create share of patient %d by account %d: %w", r.PatientID, r.AccountID, err)
	}
	return d.share(ctx, id)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (d *DB) share(ctx context.Context, id int64) (Share, error) {
	s, err := scanShare(d.r.QueryRowContext(ctx, `SELECT `+shareCols+` FROM shares s WHERE s.id = ?`, id))
	if err != nil {
		return s, fmt.Errorf("share %d: %w", id, err)
	}
	return s, nil
}

// OpenShare is a doctor typing a share code and the patient's birth date:
// the share, audited as opened, if both are right and it is still active
// and its dossier still linked to the account that made it; otherwise
// ErrShareInvalid, whatever was wrong.
func (d *DB) OpenShare(ctx context.Context, mac []byte, birth time.Time, ip string, now time.Time) (Share, error) {
	var s Share
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var born time.Time
		var linked bool
		var err error
		s, err = scanShare(tx.QueryRowContext(ctx, `SELECT `+shareCols+`, p.birth_date,
			EXISTS (SELECT 1 FROM dossier_links l WHERE l.account_id = s.account_id AND l.patient_id = s.patient_id)
			FROM shares s JOIN patients p ON p.id = s.patient_id WHERE s.code_mac = ?`, mac), &born, &linked)
		if errors.Is(err, ErrNotFound) {
			return ErrShareInvalid
		}
		if err != nil {
			return err
		}
		if !s.Active(now) || !linked || born.UTC().Format(time.DateOnly) != birth.UTC().Format(time.DateOnly) {
			return ErrShareInvalid
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: s.Actor(ip), Action: ActionShareOpen, ObjectType: "patient",
			ObjectID: s.PatientID, Detail: fmt.Sprintf("share %d", s.ID), PatientOnly: s.ByPatient})
	})
	if err != nil {
		return Share{}, fmt.Errorf("open share: %w", err)
	}
	return s, nil
}

// ActiveShare returns a share a doctor opened, while it is still active;
// ErrShareInvalid once it is revoked or expired.
func (d *DB) ActiveShare(ctx context.Context, id int64, now time.Time) (Share, error) {
	s, err := d.share(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && !s.Active(now) {
		return Share{}, ErrShareInvalid
	}
	return s, err
}

// sharedReports and sharedAt narrow visibleReports to what a share shows:
// the reports the sharing account sees now (so never a report hidden from
// it, and nothing once its link ends), the one report shared or those
// published when the dossier was shared, protected ones only when the
// patient included them, while the share is active (the one parameter of
// sharedAt, after visibleAt's).
const (
	sharedReports = visibleReports + ` JOIN shares s ON s.account_id = l.account_id AND s.patient_id = l.patient_id`
	sharedAt      = `s.revoked_at IS NULL AND s.expires_at > ?
		AND (s.document_id = d.id OR (s.document_id IS NULL AND d.published_at <= s.created_at))
		AND (NOT ` + protectedDoc + ` OR s.include_protected)`
)

// SharedReports lists what the share shows, newest first.
func (d *DB) SharedReports(ctx context.Context, shareID int64, now time.Time) ([]DossierReport, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT d.id, d.visit_id, d.title, d.size, `+asText("d.published_at")+`, `+asText("d.expires_at")+`,
		f.name, `+protectedDoc+` FROM `+sharedReports+` JOIN facilities f ON f.id = v.facility_id
		WHERE s.id = ? AND `+visibleAt+` AND `+sharedAt+` ORDER BY d.published_at DESC, d.id DESC`, shareID, now.UTC(), now.UTC())
	if err != nil {
		return nil, fmt.Errorf("reports of share %d: %w", shareID, err)
	}
	defer rows.Close()
	var out []DossierReport
	for rows.Next() {
		var r DossierReport
		if err := rows.Scan(&r.ID, &r.VisitID, &r.Title, &r.Size, timeText{&r.PublishedAt}, timeText{&r.ExpiresAt}, &r.FacilityName,
			&r.Protected); err != nil {
			return nil, fmt.Errorf("reports of share %d: %w", shareID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reports of share %d: %w", shareID, err)
	}
	return out, nil
}

// SharedDocument returns a report only if the share shows it now: the same
// ErrNotFound for any other report and for a made-up id.
func (d *DB) SharedDocument(ctx context.Context, shareID, docID int64, now time.Time) (Document, error) {
	doc, err := scanDocument(d.r.QueryRowContext(ctx, `SELECT `+documentCols+` FROM `+sharedReports+`
		WHERE s.id = ? AND d.id = ? AND `+visibleAt+` AND `+sharedAt, shareID, docID, now.UTC(), now.UTC()))
	if err != nil {
		return doc, fmt.Errorf("document %d of share %d: %w", docID, shareID, err)
	}
	return doc, nil
}

// RecordShareAccess audits a doctor's view or download of a shared report:
// it shows in the patient's access history (only the patient's, when the
// patient made the share).
func (d *DB) RecordShareAccess(ctx context.Context, s Share, docID int64, action, ip string, now time.Time) error {
	if err := insertAudit(ctx, d.w, AuditEvent{At: now, Actor: s.Actor(ip), Action: action, ObjectType: "document", ObjectID: docID,
		Detail: fmt.Sprintf("share %d", s.ID), PatientOnly: s.ByPatient}); err != nil {
		return fmt.Errorf("record access to document %d through share %d: %w", docID, s.ID, err)
	}
	return nil
}

// mayManageShares selects the shares an account sees and may revoke: those
// it made, and any of its own dossier (the patient's).
const mayManageShares = `(s.account_id = ?1 OR EXISTS (SELECT 1 FROM dossier_links o WHERE o.account_id = ?1
	AND o.patient_id = s.patient_id AND o.relation = 'self'))`

// AccountShares lists the shares an account made, and those of its own
// dossier made by others, newest first.
func (d *DB) AccountShares(ctx context.Context, accountID int64) ([]Share, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+shareCols+`, p.first_name || ' ' || p.last_name,
		coalesce((SELECT title FROM documents WHERE id = s.document_id), ''),
		coalesce((SELECT first_name || ' ' || last_name FROM accounts WHERE id = s.account_id), '')
		FROM shares s JOIN patients p ON p.id = s.patient_id WHERE `+mayManageShares+`
		ORDER BY s.created_at DESC, s.id DESC LIMIT 100`, accountID)
	if err != nil {
		return nil, fmt.Errorf("shares of account %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Share
	for rows.Next() {
		var patient, title, by string
		s, err := scanShare(rows, &patient, &title, &by)
		if err != nil {
			return nil, fmt.Errorf("shares of account %d: %w", accountID, err)
		}
		s.PatientName, s.DocumentTitle, s.CreatedBy = patient, title, by
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("shares of account %d: %w", accountID, err)
	}
	return out, nil
}

// RevokeShare ends a share at once: the account that made it, or the
// patient's own account, may; any other share is ErrNotFound. Revoking it
// again changes nothing.
func (d *DB) RevokeShare(ctx context.Context, accountID, shareID int64, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		s, err := scanShare(tx.QueryRowContext(ctx, `SELECT `+shareCols+` FROM shares s WHERE s.id = ?2 AND `+mayManageShares,
			accountID, shareID))
		if err != nil {
			return err
		}
		if !s.RevokedAt.IsZero() {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE shares SET revoked_at = ? WHERE id = ?`, now.UTC(), shareID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionShareRevoke, ObjectType: "patient", ObjectID: s.PatientID,
			Detail: fmt.Sprintf("share %d", shareID), PatientOnly: s.ByPatient})
	})
	if err != nil {
		return fmt.Errorf("revoke share %d by account %d: %w", shareID, accountID, err)
	}
	return nil
}

// ShareKeepAfterExpiry is how long an ended share stays in the patient's
// list before the expire job deletes it (its accesses stay in the audit).
const ShareKeepAfterExpiry = 30 * 24 * time.Hour

// DeleteEndedShares removes shares ended (expired or revoked) more than
// ShareKeepAfterExpiry before now.
func (d *DB) DeleteEndedShares(ctx context.Context, now time.Time) (int64, error) {
	before := now.Add(-ShareKeepAfterExpiry).UTC()
	res, err := d.w.ExecContext(ctx, `DELETE FROM shares WHERE expires_at <= ? OR revoked_at <= ?`, before, before)
	if err != nil {
		return 0, fmt.Errorf("delete ended shares: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
