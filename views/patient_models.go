package views

import (
	"context"
	"fmt"
	"time"

	"github.com/a-h/templ"

	"fse/db"
)

// Versions of the privacy notices shown in patient_notices.templ. Change
// the version whenever the text changes: consents record it.
const (
	ServicePrivacyVersion = "servizio-2026-11"
	DossierPrivacyVersion = "fascicolo-2026-11"
)

// PChrome is what every patient page's frame needs.
type PChrome struct {
	Title string
	// Path is the page's address (path and query), where the language
	// switch comes back to.
	Path string
	// Account is the logged-in patient, nil when anonymous.
	Account *db.Account
	Flash   string
	Error   string
	// RetentionDays is how long reports stay online, quoted in notices.
	RetentionDays int
	// EmailAvailable is false when the portal has no mail server: email
	// addresses cannot be confirmed, so they are not asked.
	EmailAvailable bool
	// Description is the page's meta description; public pages without
	// their own get the portal's (MetaDescription).
	Description string
	// Errors are the fields' errors of a refused form, in the page's
	// order, for the error summary (WithErrors).
	Errors []FieldError
	// Help is the help page's question (an anchor, HelpNoReport...) that
	// the page's error links to.
	Help string
}

// MetaDescription is the page's meta description: its own, or the
// portal's on a public page (the one that describes the portal to search
// engines and link previews, in the page's language); none behind login.
func (c PChrome) MetaDescription(ctx context.Context) string {
	if c.Description != "" || c.Account != nil {
		return c.Description
	}
	return T(ctx, "frame.meta_description")
}

// WithErrors is the frame of a form page: the form's field errors go to
// the error summary at the top, in the order of the fields named.
func (c PChrome) WithErrors(f Form, order ...string) PChrome {
	c.Errors = f.ErrorList(order...)
	return c
}

// HasErrors reports whether the page shows the error summary.
func (c PChrome) HasErrors() bool { return c.Error != "" || len(c.Errors) > 0 }

// LandingPage is the public landing page.
type LandingPage struct {
	PChrome
}

// NoticePage shows a privacy notice.
type NoticePage struct {
	PChrome
	// Dossier selects the dossier notice instead of the service notice.
	Dossier bool
}

// Title is the page's title, short: the header already names the portal.
func (p NoticePage) Title(ctx context.Context) string {
	if p.Dossier {
		return T(ctx, "frame.dossier_notice_title")
	}
	return T(ctx, "frame.service_notice_title")
}

// Heading names the notice the page shows.
func (p NoticePage) Heading(ctx context.Context) string {
	if p.Dossier {
		return T(ctx, "frame.dossier_notice_heading")
	}
	return T(ctx, "frame.service_notice_heading")
}

// RegisterPage is a step of registration, or a password form.
type RegisterPage struct {
	PChrome
	Form Form
}

// CodePage asks for an SMS code.
type CodePage struct {
	PChrome
	Purpose   string
	Mobile    string
	AccountID int64
	Action    string
	// NextSend is when another code may be requested; zero means now.
	NextSend time.Time
	Now      time.Time
	// Form carries the refused code's error, at the code's field.
	Form Form
}

// codeAttrs are the code field's attributes: the focus goes to it unless
// the page shows an error (the summary takes the focus then).
func (p CodePage) codeAttrs() templ.Attributes {
	a := templ.Attributes{"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "12", "required": true}
	if !p.HasErrors() && !p.Form.HasErrors() {
		a["autofocus"] = true
	}
	return a
}

// MaskedMobile shows only the last digits of the number the code went to.
func (p CodePage) MaskedMobile() string { return MaskMobile(p.Mobile) }

// SuggestsApp reports whether the page says that an authenticator app is
// safer than the SMS: on the login's code, where the SMS is the second
// factor of a patient who has nothing else.
func (p CodePage) SuggestsApp() bool { return p.Purpose == db.OTPLogin }

// MaskMobile shows only the last four digits of a number: "••• ••• 4567".
func MaskMobile(e164 string) string {
	last, ok := lastDigits(e164, 4)
	if !ok {
		return Phone(e164)
	}
	return "••• ••• " + last
}

// LoginPatientPage is the patient login or the forgot-password form.
type LoginPatientPage struct {
	PChrome
	Form Form
	// Passkey offers "Accedi con passkey" on the login (passkeys are on).
	Passkey bool
}

// ActivatePage is the dossier activation form with its privacy notice.
type ActivatePage struct {
	PChrome
	Form Form
}

// Dossier is one patient's dossier as the account sees it.
type Dossier struct {
	Link    db.DossierLink
	Reports []db.DossierReport
	Pending []db.Visit
}

// DossierPage shows one of the account's dossiers, with links to switch
// to the others.
type DossierPage struct {
	PChrome
	Links   []db.DossierLink
	Current Dossier
	Now     time.Time
	// ExpiryReminderDays marks the reports that leave the portal within
	// that many days; 0 marks none.
	ExpiryReminderDays int
}

// ProfilePage is "Il mio profilo" ("My profile").
type ProfilePage struct {
	PChrome
	Form            Form
	Links           []db.DossierLink
	RequireLoginOTP bool
	// PendingEmail is an address waiting for its owner's confirmation.
	PendingEmail string
}

// NotifyChoices are the channels the patient may choose for notices: SMS,
// and email when the portal can send it.
func (p ProfilePage) NotifyChoices(ctx context.Context) []Choice {
	c := []Choice{{"sms", T(ctx, "profile.notify_sms")}}
	if p.EmailAvailable {
		c = append(c, Choice{"email", T(ctx, "profile.notify_email")}, Choice{"both", T(ctx, "profile.notify_both")})
	}
	return c
}

// SexChoices are the sexes of the codice fiscale, in the page's language.
func SexChoices(ctx context.Context) []Choice {
	return []Choice{{"M", T(ctx, "family.sex_male")}, {"F", T(ctx, "family.sex_female")}}
}

// NotifyChoice is the account's notification channel as the form shows it.
func (p ProfilePage) NotifyChoice() string {
	a := p.Account
	switch {
	case a.NotifySMS && a.NotifyEmail:
		return "both"
	case a.NotifyEmail:
		return "email"
	}
	return "sms"
}

// AccessLogPage lists who accessed the account's dossiers and when.
type AccessLogPage struct {
	PChrome
	Events []db.AuditEvent
}

// AccessActor describes who acted, for the patient viewing the log.
func (p AccessLogPage) AccessActor(ctx context.Context, e db.AuditEvent) string {
	switch e.Actor.Kind {
	case "staff":
		return T(ctx, "access_log.actor_staff", "Name", e.Actor.Name)
	case "patient":
		if p.Account != nil && e.Actor.ID == p.Account.ID {
			return T(ctx, "access_log.actor_you")
		}
		return T(ctx, "access_log.actor_other_account")
	case "system":
		return T(ctx, "access_log.actor_system")
	case db.ActorIntegration:
		return T(ctx, "access_log.actor_integration", "Name", e.Actor.Name)
	case db.ActorShare:
		return T(ctx, "access_log.actor_share", "Name", e.Actor.Name)
	}
	return T(ctx, "access_log.actor_admin")
}

// contactForm pre-fills the contact form with the account's current data
// unless the patient just submitted other values.
func contactForm(p ProfilePage) Form {
	f := Form{Values: map[string]string{"new_mobile": Phone(p.Account.Mobile), "new_email": p.Account.Email}, Errors: p.Form.Errors}
	for _, k := range []string{"new_mobile", "new_email"} {
		if v, ok := p.Form.Values[k]; ok {
			f.Values[k] = v
		}
	}
	return f
}

// ConfirmPage asks the patient to confirm a serious action.
type ConfirmPage struct {
	PChrome
	Form    Form
	Heading string
	// Lines explain what will happen.
	Lines  []string
	Action string
	Button string
	Back   string
	// Password asks for the current password (account deletion).
	Password bool
	// DossierConsent shows the dossier notice with a consent checkbox.
	DossierConsent bool
}

// FamilyPage lists the holder's relatives and the form to add one.
type FamilyPage struct {
	PChrome
	Relatives []db.Relative
	Form      Form
}

// RelativeActivatePage activates a relative's dossier.
type RelativeActivatePage struct {
	PChrome
	Relative db.Relative
	Form     Form
	// SeparateAccount offers to register an account for the relative:
	// the desk registered the relative with another mobile.
	SeparateAccount bool
}

// dossierURL is the address of an action on a dossier.
func dossierURL(d Dossier, action string) string {
	return fmt.Sprintf("/fascicolo/%d/%s", d.Link.Patient.ID, action)
}

// EmailConfirmPage confirms an email address from the link sent to it.
type EmailConfirmPage struct {
	PChrome
	Token string
	// Done is set once the confirmation was attempted.
	Done bool
}
