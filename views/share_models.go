package views

import (
	"context"
	"fmt"
	"time"

	"fse/db"
)

// SharePage asks what to share with a doctor and for how long.
type SharePage struct {
	PChrome
	Link db.DossierLink
	// Report is the one report to share; nil for the whole dossier.
	Report *db.Document
	Form   Form
	// HasProtected is set when the patient's own dossier holds protected
	// reports, which a whole-dossier share leaves out unless asked.
	HasProtected bool
}

// Action is where the form posts.
func (p SharePage) Action() string {
	return fmt.Sprintf("/fascicolo/%d/condividi", p.Link.Patient.ID)
}

// ShareLifetimes are the choices of a share's lifetime, value and label,
// in the page's language.
func ShareLifetimes(ctx context.Context) []Choice {
	days := func(n int) string { return TN(ctx, "common.days", n) }
	return []Choice{
		{"1h", TN(ctx, "sharing.hours", 1)}, {"1d", days(1)}, {"3d", days(3)}, {"7d", days(7)}, {"14d", days(14)},
	}
}

// ShareCreatedPage shows a new share code, once: only its MAC is stored.
type ShareCreatedPage struct {
	PChrome
	Link      db.DossierLink
	Report    *db.Document
	Share     db.Share
	Code      string
	DoctorURL string
}

// SharesPage lists the account's shares.
type SharesPage struct {
	PChrome
	Shares []db.Share
	Now    time.Time
}

// State says where a share stands, in the page's language.
func (p SharesPage) State(ctx context.Context, s db.Share) string {
	switch {
	case !s.RevokedAt.IsZero():
		return T(ctx, "sharing.state_revoked", "Date", DateTime(s.RevokedAt))
	case !s.Active(p.Now):
		return T(ctx, "sharing.state_expired", "Date", DateTime(s.ExpiresAt))
	}
	return T(ctx, "sharing.state_active", "Date", DateTime(s.ExpiresAt))
}

// What says what a share shows, in the page's language.
func (p SharesPage) What(ctx context.Context, s db.Share) string {
	switch {
	case s.DocumentID == 0:
		return T(ctx, "sharing.what_dossier")
	case s.DocumentTitle == "":
		return T(ctx, "sharing.what_gone")
	}
	return T(ctx, "sharing.what_report", "Title", s.DocumentTitle)
}

// DoctorLoginPage is the doctor's form: share code and birth date.
type DoctorLoginPage struct {
	PChrome
	Form Form
}

// DoctorReportsPage is what a share shows the doctor, read-only.
type DoctorReportsPage struct {
	PChrome
	Share   db.Share
	Reports []db.DossierReport
	// PatientName is "" for a PDF-only share.
	PatientName string
}

// Label names a shared report: its title, or only its place in the list
// for a PDF-only share.
func (p DoctorReportsPage) Label(ctx context.Context, i int, r db.DossierReport) string {
	if p.Share.PDFOnly {
		return T(ctx, "sharing.document_n", "N", i+1)
	}
	return r.Title
}

// EmailDeliveryPage asks for a dossier's reports by email, protected.
type EmailDeliveryPage struct {
	PChrome
	Link db.DossierLink
	// Since is when the account asked; zero while it does not get them.
	Since time.Time
	Form  Form
	// MailConfigured is false when the portal has no mail server.
	MailConfigured bool
}

// Active tells whether the account gets the dossier's reports by email.
func (p EmailDeliveryPage) Active() bool { return !p.Since.IsZero() }

// Action is where the form posts.
func (p EmailDeliveryPage) Action() string {
	return fmt.Sprintf("/fascicolo/%d/email", p.Link.Patient.ID)
}
