package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ProtectedPolicy says what a protected ("riservato") report means online:
// the Garante's categories (HIV, sexual violence, termination of
// pregnancy, addiction services, anonymous birth) are shown to nobody but
// the patient, and many clinics keep them off the portal altogether.
type ProtectedPolicy string

const (
	// ProtectedPaper never publishes a protected report online: it is
	// handed over on paper. It is the default.
	ProtectedPaper ProtectedPolicy = "paper"
	// ProtectedSelf publishes it to the patient's own account only: never
	// through a family link, never in a relative's notices or lists.
	ProtectedSelf ProtectedPolicy = "self"
)

// ParseProtectedPolicy reads the --protected-reports setting.
func ParseProtectedPolicy(s string) (ProtectedPolicy, error) {
	switch p := ProtectedPolicy(s); p {
	case ProtectedPaper, ProtectedSelf:
		return p, nil
	}
	return "", fmt.Errorf("want paper or self, got %q", s)
}

// PaperOnly tells whether a protected report goes on paper only.
func (p ProtectedPolicy) PaperOnly() bool { return p != ProtectedSelf }

// SetProtectedReports sets what a protected report means online. Call it
// once, at start, before the store is used; the zero value is paper.
func (d *DB) SetProtectedReports(p ProtectedPolicy) { d.protectedPolicy = p }

// ProtectedReports returns the policy set with SetProtectedReports.
func (d *DB) ProtectedReports() ProtectedPolicy {
	if d.protectedPolicy == "" {
		return ProtectedPaper
	}
	return d.protectedPolicy
}

// ErrProtectedPaper means a protected report was to go online while the
// portal delivers protected reports on paper only.
var ErrProtectedPaper = errors.New("protected report: delivered on paper only")

// ErrProtectedPublished means the protected mark cannot be taken off: a
// report it covers is already online, where only the patient may see it.
var ErrProtectedPublished = errors.New("a report covered by the protected mark is already published")

// protectedDoc is the one definition of a protected report: marked itself,
// or a report of a protected visit (d and v as in visibleReports).
const protectedDoc = `(d.protected OR v.protected)`

// SetVisitProtected marks a visit protected (every report of it) or takes
// the mark off while none of its reports is published.
func (d *DB) SetVisitProtected(ctx context.Context, visitID int64, on bool, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var published int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM documents WHERE visit_id = v.id AND published_at IS NOT NULL)
			FROM visits v WHERE v.id = ?`, visitID).Scan(&published); err != nil {
			return mapErr(err)
		}
		if !on && published > 0 {
			return ErrProtectedPublished
		}
		res, err := tx.ExecContext(ctx, `UPDATE visits SET protected = ? WHERE id = ? AND protected <> ?`, on, visitID, on)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		action := ActionVisitProtect
		if !on {
			action = ActionVisitUnprotect
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: action, ObjectType: "visit", ObjectID: visitID})
	})
	if err != nil {
		return fmt.Errorf("set visit %d protected %t: %w", visitID, on, err)
	}
	return nil
}

// SetDocumentProtected marks one report protected or takes its own mark
// off while it is not published. It returns the report's visit.
func (d *DB) SetDocumentProtected(ctx context.Context, docID int64, on bool, by Actor, now time.Time) (int64, error) {
	var visitID int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var published sql.NullTime
		if err := tx.QueryRowContext(ctx, `SELECT visit_id, published_at FROM documents WHERE id = ? AND complete`, docID).
			Scan(&visitID, &published); err != nil {
			return mapErr(err)
		}
		if !on && published.Valid {
			return ErrProtectedPublished
		}
		res, err := tx.ExecContext(ctx, `UPDATE documents SET protected = ? WHERE id = ? AND protected <> ?`, on, docID, on)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		action := ActionReportProtect
		if !on {
			action = ActionReportUnprotect
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: action, ObjectType: "document", ObjectID: docID})
	})
	if err != nil {
		return 0, fmt.Errorf("set document %d protected %t: %w", docID, on, err)
	}
	return visitID, nil
}

// refuseProtectedPaper refuses, inside tx, to put online a protected report
// (of a protected visit, or marked protected) while the policy is paper.
func refuseProtectedPaper(ctx context.Context, tx *sql.Tx, policy ProtectedPolicy, visitID int64, docProtected bool) error {
	if !policy.PaperOnly() {
		return nil
	}
	if docProtected {
		return ErrProtectedPaper
	}
	var protected bool
	if err := tx.QueryRowContext(ctx, `SELECT protected FROM visits WHERE id = ?`, visitID).Scan(&protected); err != nil {
		return mapErr(err)
	}
	if protected {
		return ErrProtectedPaper
	}
	return nil
}
