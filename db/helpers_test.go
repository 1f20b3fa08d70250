package db_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"fse/db"
	"fse/internal/testkit"
)

// retention is how long the tests' reports stay online.
const retention = 60 * 24 * time.Hour

// notice is the text of the tests' "new report" messages.
var notice = db.Notice{SMS: "Nuovo documento disponibile", EmailSubject: "Nuovo documento", EmailBody: "Nuovo documento disponibile"}

// mobile returns a distinct E.164 number for person n.
func mobile(n int) string { return fmt.Sprintf("+39333000%04d", n) }

// patientWith is patient(n) registered at the desk with the mobile m.
func patientWith(n int, m string) db.Patient {
	p := patient(n)
	p.Mobile = m
	return p
}

// account registers an account with the verified mobile m.
func (f fixture) account(t *testing.T, m string) int64 {
	t.Helper()
	id, err := f.d.CreateAccount(context.Background(), db.Account{FirstName: "Anna", LastName: "Bianchi", Mobile: m,
		PasswordHash: "x", PrivacyVersion: "v", PrivacyAcceptedAt: t0}, "", t0)
	if err != nil {
		t.Fatalf("CreateAccount(%s): %v", m, err)
	}
	return id
}

// acceptCode accepts p at the desk and returns the visit with the MAC of
// the activation code printed on its slip.
func (f fixture) acceptCode(t *testing.T, p db.Patient, now time.Time) (db.Visit, []byte) {
	t.Helper()
	mac := randomMAC(t)
	v, err := f.d.Accept(context.Background(), db.Acceptance{Patient: p, FacilityID: f.facilityID,
		Exams: []string{"Emocromo"}, CodeMAC: mac}, f.desk, now)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return v, mac
}

// activate links a dossier that must link, and returns its patient.
func (f fixture) activate(t *testing.T, a db.Activation) int64 {
	t.Helper()
	if a.PrivacyVersion == "" {
		a.PrivacyVersion = "dossier-v1"
	}
	id, err := f.d.ActivateDossier(context.Background(), a, db.Actor{Kind: "patient", ID: a.AccountID}, t0)
	if err != nil {
		t.Fatalf("ActivateDossier for account %d: %v", a.AccountID, err)
	}
	return id
}

// relative registers p as a relative of the account.
func (f fixture) relative(t *testing.T, accountID int64, p db.Patient) int64 {
	t.Helper()
	id, err := f.d.CreateRelative(context.Background(), db.Relative{AccountID: accountID, FiscalCode: p.FiscalCode,
		FirstName: p.FirstName, LastName: p.LastName, BirthDate: p.BirthDate, BirthPlace: p.BirthPlace, Sex: p.Sex},
		db.Actor{Kind: "patient", ID: accountID}, t0)
	if err != nil {
		t.Fatalf("CreateRelative: %v", err)
	}
	return id
}

// publish stores a report for the visit and publishes the visit at now
// (it expires retention later); it returns the report's id.
func (f fixture) publish(t *testing.T, visitID int64, now time.Time) int64 {
	t.Helper()
	id := f.store(t, visitID, []byte("%PDF-1.7 referto"))
	if _, err := f.d.PublishVisit(context.Background(), visitID, retention, notice, f.desk, now); err != nil {
		t.Fatalf("PublishVisit(%d): %v", visitID, err)
	}
	return id
}

// reportIDs lists the ids of the reports of patientID that accountID sees at now.
func (f fixture) reportIDs(t *testing.T, accountID, patientID int64, now time.Time) []int64 {
	t.Helper()
	rs, err := f.d.DossierReports(context.Background(), accountID, patientID, now)
	if err != nil {
		t.Fatalf("DossierReports: %v", err)
	}
	out := []int64{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// sees tells whether accountID can open document docID at now, failing on
// any error other than the ErrNotFound that means "not visible".
func (f fixture) sees(t *testing.T, accountID, docID int64, now time.Time) bool {
	t.Helper()
	_, err := f.d.DossierDocument(context.Background(), accountID, docID, now)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("DossierDocument(%d, %d): %v", accountID, docID, err)
	}
	return err == nil
}

// linked tells whether accountID has patientID's dossier.
func (f fixture) linked(t *testing.T, accountID, patientID int64) bool {
	t.Helper()
	links, err := f.d.DossierLinks(context.Background(), accountID)
	if err != nil {
		t.Fatalf("DossierLinks: %v", err)
	}
	return slices.ContainsFunc(links, func(l db.DossierLink) bool { return l.Patient.ID == patientID })
}

// queued counts the "new report" notices about patientID still waiting to
// be sent to accountID.
func (f fixture) queued(t *testing.T, accountID, patientID int64) int {
	t.Helper()
	return testkit.Count(t, f.d, `SELECT count(*) FROM outbox WHERE kind = 'report_available' AND sent_at IS NULL
		AND account_id = ? AND patient_id = ?`, accountID, patientID)
}

// family is a clinic with three accounts: a parent who activated their own
// dossier and, as a relative, their child's; optionally the child's own
// account on the same dossier; and a stranger with a dossier of their own.
// Each dossier has one published report, whose notices are still queued.
type family struct {
	fixture
	parent, child, stranger        int64 // accounts; child is 0 without its account
	own, kid, other                int64 // patients: the parent's, the child's, the stranger's
	ownVisit, kidVisit, otherVisit int64
	ownDoc, kidDoc, otherDoc       int64
}

func newFamily(t *testing.T, childAccount bool) family {
	t.Helper()
	w := family{fixture: newFixture(t)}
	w.parent = w.account(t, mobile(1))
	v, mac := w.acceptCode(t, patientWith(0, mobile(1)), t0)
	w.own = w.activate(t, db.Activation{AccountID: w.parent, FiscalCode: patient(0).FiscalCode, CodeMAC: mac})
	w.ownVisit = v.ID

	// The desk registered the child with the parent's number.
	v, mac = w.acceptCode(t, patientWith(1, mobile(1)), t0)
	w.kidVisit = v.ID
	rel := w.relative(t, w.parent, patient(1))
	w.kid = w.activate(t, db.Activation{AccountID: w.parent, FiscalCode: patient(1).FiscalCode, CodeMAC: mac, RelativeID: rel})

	if childAccount {
		// Grown up, the child gave the desk their own number and registered.
		w.child = w.account(t, mobile(2))
		_, mac = w.acceptCode(t, patientWith(1, mobile(2)), t0)
		w.activate(t, db.Activation{AccountID: w.child, FiscalCode: patient(1).FiscalCode, CodeMAC: mac})
	}

	w.stranger = w.account(t, mobile(3))
	v, mac = w.acceptCode(t, patientWith(2, mobile(3)), t0)
	w.other = w.activate(t, db.Activation{AccountID: w.stranger, FiscalCode: patient(2).FiscalCode, CodeMAC: mac})
	w.otherVisit = v.ID

	w.ownDoc = w.publish(t, w.ownVisit, t0)
	w.kidDoc = w.publish(t, w.kidVisit, t0)
	w.otherDoc = w.publish(t, w.otherVisit, t0)
	return w
}
