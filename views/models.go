package views

import (
	"time"

	"fse/db"
)

// LoginPage is the staff login form.
type LoginPage struct {
	Chrome
	Form Form
}

// VisitRow is a visit with its patient, for lists.
type VisitRow struct {
	Visit   db.Visit
	Patient db.Patient
}

// HomePage is the desk's search page with the latest acceptances.
type HomePage struct {
	Chrome
	Query    string
	Searched bool
	Results  []db.Patient
	Recent   []VisitRow
}

// AcceptPage is the acceptance form.
type AcceptPage struct {
	Chrome
	Form       Form
	Facilities []db.Facility
}

// SlipPage is the printable pickup slip. Code is shown once: only its MAC is stored.
type SlipPage struct {
	Chrome
	Facility      db.Facility
	Patient       db.Patient
	Visit         db.Visit
	Code          string
	PortalURL     string
	QR            string
	RetentionDays int
	Reprint       bool
}

// VisitDocs is a visit with its reports.
type VisitDocs struct {
	Visit     db.Visit
	Documents []db.Document
}

// PatientPage is the desk's view of one patient.
type PatientPage struct {
	Chrome
	Patient db.Patient
	Visits  []VisitDocs
	Now     time.Time
	// OnlineAccounts is how many online accounts have the dossier.
	OnlineAccounts int
}

// VisitPage shows one visit: reports, upload, publish, reprint.
type VisitPage struct {
	Chrome
	Patient       db.Patient
	Visit         db.Visit
	Documents     []db.Document
	Now           time.Time
	Upload        Form
	UploadLimit   string
	RetentionDays int
}

// Unpublished counts the visit's uploaded reports not yet published.
func (p VisitPage) Unpublished() int {
	n := 0
	for _, d := range p.Documents {
		if !d.Published() {
			n++
		}
	}
	return n
}

// WithdrawPage asks to confirm the withdrawal of a report.
type WithdrawPage struct {
	Chrome
	Patient  db.Patient
	Visit    db.Visit
	Document db.Document
}

// StaffPage lists staff and holds the creation form.
type StaffPage struct {
	Chrome
	Members []db.Staff
	Form    Form
}

// FacilitiesPage lists facilities and holds the creation form.
type FacilitiesPage struct {
	Chrome
	Facilities []db.Facility
	Form       Form
}

// AuditPage shows filtered audit events, newest first.
type AuditPage struct {
	Chrome
	Filter     Form
	Events     []db.AuditEvent
	NextBefore int64
	NextQuery  string
}

// Setting is one line of the settings page.
type Setting struct {
	Name, Value, Note string
}

// SettingsPage shows the running configuration and its warnings.
type SettingsPage struct {
	Chrome
	Settings []Setting
	Warnings []string
}

// NotificationsPage shows the outbox to admins.
type NotificationsPage struct {
	Chrome
	Stats           db.OutboxStats
	Messages        []db.OutboxMessage
	All             bool
	SMSConfigured   bool
	EmailConfigured bool
}

// IntegrationsPage lists the clinic systems that deliver to fse, the
// refused attempts, and the form to add one.
type IntegrationsPage struct {
	Chrome
	Integrations []db.Integration
	Facilities   []db.Facility
	Failures     []db.AuthFailures
	Form         Form
	BaseURL      string
}

// IntegrationTokenPage shows a new integration's token, once.
type IntegrationTokenPage struct {
	Chrome
	Integration db.Integration
	Token       string
	BaseURL     string
}
