package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ActivationCodeLifetime is how long an activation code lives when no
// report of its visit has been published.
const ActivationCodeLifetime = 90 * 24 * time.Hour

// Visit is an acceptance at the front desk.
type Visit struct {
	ID             int64
	PatientID      int64
	FacilityID     int64
	FacilityCode   string
	FacilityName   string
	AccessionYear  int
	AccessionSeq   int
	Exams          []string
	OnlineDeclined bool
	AcceptedAt     time.Time
	AcceptedBy     int64
	// CodeExpiresAt is the latest expiry among unused, unrevoked activation
	// codes of the visit; zero when there is none.
	CodeExpiresAt time.Time
	// ExternalID is the HIS's id of an acceptance it sent; "" for the desk's.
	ExternalID string
	// Protected marks every report of the visit "riservato" (see
	// ProtectedPolicy).
	Protected bool
}

// CodeActive tells whether the visit has a usable activation code at now.
func (v Visit) CodeActive(now time.Time) bool { return v.CodeExpiresAt.After(now) }

// AccessionNumber is the visit's readable number, unique per facility and year.
func (v Visit) AccessionNumber() string {
	return fmt.Sprintf("%s-%d-%05d", v.FacilityCode, v.AccessionYear, v.AccessionSeq)
}

// Acceptance is what the desk typed to accept a patient.
type Acceptance struct {
	Patient        Patient
	FacilityID     int64
	Exams          []string
	OnlineDeclined bool
	// CodeMAC is the keyed hash of the new activation code; nil when declined.
	CodeMAC []byte
	// ExternalID is the HIS's own id of the acceptance (integrations only).
	ExternalID string
	// Protected marks the visit "riservato".
	Protected bool
}

// Accept creates or updates the patient, creates the visit with the next
// accession number and, unless online delivery was declined, stores the
// activation code's MAC. Everything happens in one transaction.
func (d *DB) Accept(ctx context.Context, a Acceptance, by Actor, now time.Time) (Visit, error) {
	v, _, err := d.AcceptOnce(ctx, a, by, now)
	return v, err
}

// ErrExternalIDTaken means the HIS sent an external id it already used for
// an acceptance of another patient.
var ErrExternalIDTaken = errors.New("external id already used for another patient")

// AcceptOnce is Accept made idempotent by the acceptance's ExternalID: when
// the facility already has a visit with that id for the same codice fiscale,
// that visit is returned with created false and nothing is written (no
// second activation code); for another patient it is ErrExternalIDTaken.
// Without an ExternalID it always creates.
func (d *DB) AcceptOnce(ctx context.Context, a Acceptance, by Actor, now time.Time) (Visit, bool, error) {
	var visitID int64
	created := true
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if a.ExternalID != "" {
			var cf string
			err := tx.QueryRowContext(ctx, `SELECT v.id, p.fiscal_code FROM visits v JOIN patients p ON p.id = v.patient_id
				WHERE v.facility_id = ? AND v.external_id = ?`, a.FacilityID, a.ExternalID).Scan(&visitID, &cf)
			switch {
			case err == nil && cf == a.Patient.FiscalCode:
				created = false
				return nil
			case err == nil:
				return ErrExternalIDTaken
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		var active bool
		if err := tx.QueryRowContext(ctx, `SELECT active FROM facilities WHERE id = ?`, a.FacilityID).Scan(&active); err != nil || !active {
			return fmt.Errorf("facility %d: %w", a.FacilityID, ErrNotFound)
		}
		patientID, err := upsertPatient(ctx, tx, a.Patient, by, now)
		if err != nil {
			return err
		}
		// The accession year is the Rome calendar year printed on the slip.
		year := now.In(Rome).Year()
		var seq int
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(accession_seq), 0) + 1 FROM visits
			WHERE facility_id = ? AND accession_year = ?`, a.FacilityID, year).Scan(&seq); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO visits(patient_id, facility_id, accession_year, accession_seq, exams,
			online_declined, accepted_at, accepted_by, accepted_by_integration, external_id, protected) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			patientID, a.FacilityID, year, seq, strings.Join(a.Exams, "\n"), a.OnlineDeclined, now.UTC(), by.staffID(), by.integrationID(),
			nullIfEmpty(a.ExternalID), a.Protected)
		if err != nil {
			return mapErr(err)
		}
		visitID, _ = res.LastInsertId()
		detail := ""
		if a.OnlineDeclined {
			detail = "online delivery declined"
		}
		if a.Protected {
			detail = strings.TrimPrefix(detail+", protected", ", ")
		}
		if err := insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionVisitAccept, ObjectType: "visit", ObjectID: visitID, Detail: detail}); err != nil {
			return err
		}
		if a.OnlineDeclined {
			return nil
		}
		return insertCode(ctx, tx, visitID, a.CodeMAC, by, now, ActionCodeIssue)
	})
	if err != nil {
		// No codice fiscale here: errors reach the server log.
		return Visit{}, false, fmt.Errorf("accept patient: %w", err)
	}
	v, err := d.Visit(ctx, visitID)
	return v, created, err
}

// ErrAccession means a string is not an accession number (CODE-YYYY-NNNNN).
var ErrAccession = errors.New("not an accession number (such as MN-2026-00042)")

// ParseAccession splits an accession number into facility code, year and
// sequence; it is the inverse of Visit.AccessionNumber.
func ParseAccession(s string) (code string, year, seq int, err error) {
	parts := strings.Split(strings.ToUpper(strings.TrimSpace(s)), "-")
	if len(parts) != 3 || len(parts[0]) < 2 || len(parts[0]) > 6 || len(parts[1]) != 4 || len(parts[2]) < 1 || len(parts[2]) > 9 {
		return "", 0, 0, ErrAccession
	}
	for _, r := range parts[0] {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return "", 0, 0, ErrAccession
		}
	}
	year, yerr := strconv.Atoi(parts[1])
	seq, serr := strconv.Atoi(parts[2])
	if yerr != nil || serr != nil || year < 2000 || seq < 1 {
		return "", 0, 0, ErrAccession
	}
	return parts[0], year, seq, nil
}

// VisitByAccession returns the visit with that accession number in the
// facility; a number of another facility is the same ErrNotFound as an
// unknown one.
func (d *DB) VisitByAccession(ctx context.Context, facilityID int64, accession string) (Visit, error) {
	code, year, seq, err := ParseAccession(accession)
	if err != nil {
		return Visit{}, fmt.Errorf("visit by accession: %w", ErrNotFound)
	}
	v, err := scanVisit(d.r.QueryRowContext(ctx, `SELECT `+visitCols+` FROM visits v JOIN facilities f ON f.id = v.facility_id
		WHERE v.facility_id = ? AND f.code = ? AND v.accession_year = ? AND v.accession_seq = ?`, facilityID, code, year, seq))
	if err != nil {
		return v, fmt.Errorf("visit by accession: %w", err)
	}
	return v, nil
}

const visitCols = `v.id, v.patient_id, v.facility_id, f.code, f.name, v.accession_year, v.accession_seq, v.exams,
	v.online_declined, v.accepted_at, coalesce(v.accepted_by, 0),
	(SELECT max(c.expires_at) FROM activation_codes c WHERE c.visit_id = v.id AND c.revoked_at IS NULL
	   AND c.used_at IS NULL), coalesce(v.external_id, ''), v.protected`

// scanVisit reads visitCols, then any extra columns into extra.
func scanVisit(s interface{ Scan(...any) error }, extra ...any) (Visit, error) {
	var v Visit
	var exams string
	var codeExp sql.NullString
	err := s.Scan(append([]any{&v.ID, &v.PatientID, &v.FacilityID, &v.FacilityCode, &v.FacilityName, &v.AccessionYear,
		&v.AccessionSeq, &exams, &v.OnlineDeclined, &v.AcceptedAt, &v.AcceptedBy, &codeExp, &v.ExternalID, &v.Protected}, extra...)...)
	if err != nil {
		return v, mapErr(err)
	}
	v.Exams = strings.Split(exams, "\n")
	if codeExp.Valid {
		if v.CodeExpiresAt, err = parseTime(codeExp.String); err != nil {
			return v, err
		}
	}
	return v, nil
}

// Visit returns one visit.
func (d *DB) Visit(ctx context.Context, id int64) (Visit, error) {
	v, err := scanVisit(d.r.QueryRowContext(ctx, `SELECT `+visitCols+` FROM visits v JOIN facilities f ON f.id = v.facility_id
		WHERE v.id = ?`, id))
	if err != nil {
		return v, fmt.Errorf("visit %d: %w", id, err)
	}
	return v, nil
}

// PatientVisits lists a patient's visits, newest first.
func (d *DB) PatientVisits(ctx context.Context, patientID int64) ([]Visit, error) {
	visits, err := listVisits(ctx, d.r, `WHERE v.patient_id = ? ORDER BY v.accepted_at DESC`, patientID)
	if err != nil {
		return nil, fmt.Errorf("visits of patient %d: %w", patientID, err)
	}
	return visits, nil
}

// VisitWithPatient is a visit with the names of its patient, for lists.
type VisitWithPatient struct {
	Visit   Visit
	Patient Patient
}

// RecentVisitsWithPatients lists the latest acceptances with their
// patients in one query (the desk's home page shows them on every visit).
func (d *DB) RecentVisitsWithPatients(ctx context.Context, limit int) ([]VisitWithPatient, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+visitCols+`, p.fiscal_code, p.first_name, p.last_name
		FROM visits v JOIN facilities f ON f.id = v.facility_id JOIN patients p ON p.id = v.patient_id
		ORDER BY v.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("recent visits: %w", err)
	}
	defer rows.Close()
	var out []VisitWithPatient
	for rows.Next() {
		var r VisitWithPatient
		if r.Visit, err = scanVisit(rows, &r.Patient.FiscalCode, &r.Patient.FirstName, &r.Patient.LastName); err != nil {
			return nil, fmt.Errorf("recent visits: %w", err)
		}
		r.Patient.ID = r.Visit.PatientID
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent visits: %w", err)
	}
	return out, nil
}

// RecentVisits lists the latest acceptances of all facilities.
func (d *DB) RecentVisits(ctx context.Context, limit int) ([]Visit, error) {
	visits, err := listVisits(ctx, d.r, `ORDER BY v.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("recent visits: %w", err)
	}
	return visits, nil
}

func listVisits(ctx context.Context, q querier, tail string, args ...any) ([]Visit, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+visitCols+` FROM visits v JOIN facilities f ON f.id = v.facility_id `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("list visits: %w", err)
	}
	defer rows.Close()
	var out []Visit
	for rows.Next() {
		v, err := scanVisit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
