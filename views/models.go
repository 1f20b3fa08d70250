package views

import (
	"fmt"
	"time"

	"fse/db"
	"fse/internal/locale"
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
	// Protected is what a protected report means online.
	Protected db.ProtectedPolicy
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
	// Contacts are the help, data controller's and DPO's contacts.
	Contacts db.SlipContacts
	// Lang is the language of the printed slip, the desk's choice for the
	// patient ("Lingua del modulo"); the desk's page around it stays
	// Italian.
	Lang locale.Lang
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
	// Protected is what a protected report means online.
	Protected db.ProtectedPolicy
	// Majority is set when relatives' links ended at the patient's 18th
	// birthday.
	Majority *db.MajorityTransfer
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
	// Protected is what a protected report means online.
	Protected db.ProtectedPolicy
}

// Unpublished counts the visit's uploaded reports that publishing would
// put online: not yet published, and not kept on paper as protected.
func (p VisitPage) Unpublished() int {
	n := 0
	for _, d := range p.Documents {
		if !d.Published() && !(d.Protected && p.Protected.PaperOnly()) {
			n++
		}
	}
	return n
}

// PaperOnlyVisit tells whether the visit's reports go on paper only
// because it is protected.
func (p VisitPage) PaperOnlyVisit() bool { return p.Visit.Protected && p.Protected.PaperOnly() }

// MayUnprotectVisit tells whether the desk may take the visit's protected
// mark off: none of its reports is online yet.
func (p VisitPage) MayUnprotectVisit() bool {
	for _, d := range p.Documents {
		if d.Published() {
			return false
		}
	}
	return true
}

// ReportTable is a list of reports as the desk sees them.
type ReportTable struct {
	Docs []db.Document
	Now  time.Time
	// Actions shows the per-report actions (the visit page).
	Actions   bool
	Protected db.ProtectedPolicy
	// Back is the page a paper pickup returns to.
	Back string
}

// DownloadedBy names the account that downloaded a report first.
func DownloadedBy(p db.Pickup) string {
	switch {
	case p.DownloadedByName != "":
		return fmt.Sprintf("account n. %d, %s", p.DownloadedBy, p.DownloadedByName)
	case p.DownloadedBy != 0:
		return fmt.Sprintf("account n. %d, poi eliminato", p.DownloadedBy)
	}
	return "account non registrato"
}

// UncollectedPage lists the published reports nobody collected within
// Days, for one facility.
type UncollectedPage struct {
	Chrome
	Facilities []db.Facility
	FacilityID int64
	Days       int
	Reports    []db.UncollectedReport
	Now        time.Time
}

// Query is the page's own address, for the pickup form to come back to.
func (p UncollectedPage) Query() string {
	return fmt.Sprintf("/desk/uncollected?facility=%d&days=%d", p.FacilityID, p.Days)
}

// ProtectedText says what the protected mark means for a report online.
func (t ReportTable) ProtectedText(d db.Document) string {
	if t.Protected.PaperOnly() {
		return "riservato · solo su carta"
	}
	return "riservato · visibile solo al paziente"
}

// MayUnprotect tells whether the desk may take the report's own protected
// mark off (not once it is online).
func (t ReportTable) MayUnprotect(d db.Document) bool { return d.MarkedProtected && !d.Published() }

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
	// Policy says which members must have a second factor.
	Policy db.StaffMFAPolicy
	// Facilities are the active facilities a member may work at, and
	// FacilityOf each member's, by member id.
	Facilities []db.Facility
	FacilityOf map[int64]int64
}

// FactorRequired reports whether member s must have a second factor.
func (p StaffPage) FactorRequired(s db.Staff) bool { return p.Policy.Requires(s.Role) }

// MayReset reports whether the logged-in admin may reset s's factors:
// another member's, when there are any.
func (p StaffPage) MayReset(s db.Staff) bool {
	return s.Factors > 0 && (p.Staff == nil || s.ID != p.Staff.ID)
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
