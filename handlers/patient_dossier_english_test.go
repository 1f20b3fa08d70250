package handlers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"fse/db"
)

// The logged-in patient's own pages in English: the dossier with its
// reports and controls, the confirm pages, the access history, the profile
// and the family pages, with the notices and errors their forms answer. A
// patient whose browser chose English reads them without an Italian word;
// the Italian pages are the other tests' (they assert the Italian texts).

// dxItalian are words of Italian sentences and the Italian names of the
// things these pages show, which their English versions must not show
// once the data (names, report titles, the clinic's name) is taken out.
var dxItalian = regexp.MustCompile(`(?i)(^|[^\p{L}])(il|lo|gli|della|delle|degli|dei|che|sono|suo|sua|suoi|questo|questa|quando|chi|può|referto|referti|fascicolo|fascicoli|familiare|familiari|profilo|accessi|scarica|elimina|eliminare|annulla|apri|attiva|riattiva|disattiva|scollega|azzera|storico|gestisci|salva|aggiungi|rimuovi|cellulare|recapiti|avvisi|password attuale|nome|cognome|sesso|giorni|ancora|pubblicato|disponibile|prestazione|preparazione|personale|lei|consenso|informativa|codice di attivazione|modulo)([^\p{L}]|$)`)

// dxData is what may stay Italian on an English page: data, and the names
// Italians give to Italian things.
var dxData = []string{"Referti online", "codice fiscale", "Mario Rossi", "Luca Rossi", "Giulia Verdi", "Poliambulatorio Test",
	"sportello", "Mantova"}

// dxEnglish fails unless rec's page says it is English and its title and
// main show every want and no Italian word.
func dxEnglish(t *testing.T, what string, rec *httptest.ResponseRecorder, want ...string) {
	t.Helper()
	doc := parseHTML(t, rec.Body.String())
	wantEnglish(t, what, doc, doc.Find("title").Text()+" · "+doc.Find("main").Text(), dxItalian, dxData, want...)
}

// dxPatient is Mario Rossi, who chose English before signing up, with his
// dossier activated: two reports published and one visit still being
// prepared, whose slip's code is spareCode. His son Luca's visit has one
// report, its slip's code is childCode.
type dxPatient struct {
	a                             *app
	desk, c                       *client
	patient, childVisit           int64
	docs                          []int64
	spareCode, childCF, childCode string
}

func dxSetup(t *testing.T) *dxPatient {
	t.Helper()
	a := newApp(t)
	p := &dxPatient{a: a, desk: a.deskClient(), childCF: fcChildCF(t)}
	visit, code := p.desk.accept(a.acceptForm())
	for _, title := range []string{"Blood test", "ECG"} {
		id, _ := publishReport(t, p.desk, visit, title)
		p.docs = append(p.docs, id)
	}
	_, p.spareCode = p.desk.accept(a.acceptForm()) // a visit with no report yet
	p.childVisit, p.childCode = p.desk.accept(fcChildAcceptance(a, p.childCF, "333 123 4567"))
	publishReport(t, p.desk, p.childVisit, "Check-up")
	p.c = a.registerWith(a.englishClient(), "Mario", "Rossi", "333 1234567", "")
	p.patient = patientByCF(t, a, rossiCF).ID
	dxEnglish(t, "activation", p.c.follow(p.c.activate(rossiCF, code)), "Dossier activated. Your reports will appear here")
	return p
}

// dxPost posts form (none when nil) and returns the page it leads to.
func dxPost(t *testing.T, c *client, target string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return c.follow(c.post(target, form))
}

func TestTheDossierPageSpeaksEnglish(t *testing.T) {
	p := dxSetup(t)
	dxEnglish(t, "dossier", p.c.get("/fascicolo"),
		"My dossier · Online medical reports", "Blood test", "ECG", "published on", "Available until", "60 days left",
		"Download the PDF", "Open", "Delete", "Being prepared", "Visit on", "We will tell you when the reports are ready.",
		"Manage this dossier", "Clear the history: deletes all the online reports for good.",
		"Turn off the online service: your next reports will be on paper only.",
		"Unlink from my account: for example if you activated someone else's dossier by mistake.",
		"Documents stay in the dossier for at most 60 days after they are published", "Who has looked at my dossier",
		"Can't see a report?")
	if body := p.c.get("/fascicolo").Body.String(); !strings.Contains(body, `aria-label="Mario Rossi&#39;s dossier"`) {
		t.Error("the dossier's section is not labelled in English")
	}
}

// Each confirm page of a dossier, and what the dossier page says after it.
func TestTheDossierConfirmPagesSpeakEnglish(t *testing.T) {
	p := dxSetup(t)
	dossier := fmt.Sprintf("/fascicolo/%d/", p.patient)
	for _, tt := range []struct {
		action string
		want   []string
	}{
		{"disattiva", []string{"Mario Rossi's dossier", "Turn off the online service for Mario Rossi's dossier?",
			"Your consent to viewing reports online will be withdrawn", "Turn off", "Cancel"}},
		{"riattiva", []string{"Turn the online service back on for Mario Rossi's dossier?",
			"I have read the privacy notice and I consent to viewing the reports online.", "Turn back on", "Cancel"}},
		{"azzera", []string{"Clear the history of Mario Rossi's dossier?", "This cannot be undone.", "Clear the history"}},
		{"scollega", []string{"Unlink Mario Rossi's dossier from your account?", "you will need a new activation code", "Unlink"}},
		{"revoca", []string{"Remove the other accounts' access to Mario Rossi's dossier?", "Your own access does not change.",
			"Remove the others' access"}},
	} {
		dxEnglish(t, tt.action, p.c.get(dossier+tt.action), tt.want...)
	}
	deletePage := fmt.Sprintf("/fascicolo/referti/%d/elimina", p.docs[0])
	dxEnglish(t, "delete a report", p.c.get(deletePage), "Delete report", "Delete the report “Blood test”?",
		"deleted from the portal for good", "Delete", "Cancel")
	dxEnglish(t, "report deleted", dxPost(t, p.c, deletePage, nil), "Report deleted.")

	rec := p.c.post(dossier+"riattiva", url.Values{})
	dxEnglish(t, "turning back on without consent", rec, "To turn the service back on, please consent to the privacy notice.")
	dxEnglish(t, "turned off", dxPost(t, p.c, dossier+"disattiva", nil), "Online service turned off",
		"The online service for this dossier has been off since", "Turn the online service back on",
		"Unlink this dossier from my account")
	dxEnglish(t, "turned back on", dxPost(t, p.c, dossier+"riattiva", url.Values{"consent": {"1"}}), "Online service turned back on.")
	dxEnglish(t, "others removed", dxPost(t, p.c, dossier+"revoca", nil), "Access removed from 0 other accounts.")
	dxEnglish(t, "history cleared", dxPost(t, p.c, dossier+"azzera", nil), "History cleared: 1 report deleted for good.")

	// Luca's dossier, with one report more, clears two.
	rel := fcAddRelative(t, p.c, fcRelativeForm(p.childCF))
	child := patientByCF(t, p.a, p.childCF).ID
	fcActivateRelative(p.c, rel, p.childCF, p.childCode)
	publishReport(t, p.desk, p.childVisit, "X-ray")
	dxEnglish(t, "two cleared", dxPost(t, p.c, fmt.Sprintf("/fascicolo/%d/azzera", child), nil),
		"History cleared: 2 reports deleted for good.", "Your dossier stays empty until a document is ready.")
	dxEnglish(t, "unlinked", dxPost(t, p.c, fmt.Sprintf("/fascicolo/%d/scollega", child), nil), "Dossier unlinked from your account.")
}

// Hiding a report from the other accounts, and the relative's account,
// which may not.
func TestHidingAReportSpeaksEnglish(t *testing.T) {
	a := newRightsApp(t, db.ProtectedPaper, nil)
	f := rfSetup(t, a)
	doc, _ := publishReport(t, f.desk, f.ownVisit, "Ultrasound")
	for _, c := range []*client{f.giulia, f.mario} {
		c.cookies["fse_lang"] = &http.Cookie{Name: "fse_lang", Value: "en"}
	}
	hide := fmt.Sprintf("/fascicolo/referti/%d/nascondi", doc)
	if rec := f.mario.post(hide, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("the relative's account hid a report: %d", rec.Code)
	} else {
		dxEnglish(t, "the relative hides", rec, "Only the patient, from their own account, can hide one of their reports")
	}
	dxEnglish(t, "hidden", dxPost(t, f.giulia, hide, nil), "Report hidden: the other accounts that can see your dossier no longer see it.")
	dxEnglish(t, "shown", dxPost(t, f.giulia, fmt.Sprintf("/fascicolo/referti/%d/mostra", doc), nil),
		"The report is visible again to the other accounts that can see your dossier.")
	dxEnglish(t, "Giulia's dossier", f.giulia.get("/fascicolo"),
		"Remove the other accounts' access: right now 1 other account can see this dossier.")
	dxEnglish(t, "Mario's access removed", dxPost(t, f.giulia, fmt.Sprintf("/fascicolo/%d/revoca", f.patient), nil),
		"Access removed from 1 other account.")
}

func TestTheAccessHistorySpeaksEnglish(t *testing.T) {
	p := dxSetup(t)
	fcDownload(p.c, p.docs[0])
	dxEnglish(t, "access history", p.c.get("/fascicolo/accessi"),
		"Dossier access history", "Here you can see who looked at or changed the data in your dossiers", "When", "Who", "What",
		"You (this account)", "Clinic staff (sportello)", "A report was downloaded", "A report was published online",
		"Online dossier activated", "Visit checked in at the front desk")
}

func TestTheProfileSpeaksEnglish(t *testing.T) {
	p := dxSetup(t)
	c := p.c
	dxEnglish(t, "profile", c.get("/profilo"),
		"My profile · Online medical reports", "Name", "Mobile", "Active dossiers", "Mario Rossi · activated on", "Family members",
		"Manage the dossiers of children or parents", "Notices and login", "How would you like to be told about new documents?",
		"Text message and email", "Also ask for a code by text message at every login (safer)", "Save",
		"Change mobile number or email", "(optional)", "Current password", "(to confirm)", "Change contact details",
		"Login security", "Security", "Change password", "New password", "(at least 10 characters)", "Repeat the new password",
		"Deleting your account", "Delete my account")

	dxEnglish(t, "email notices without an email", c.post("/profilo/preferenze", url.Values{"notify": {"email"}}),
		"To receive notices by email, you need an email address in your profile.")
	dxEnglish(t, "preferences", dxPost(t, c, "/profilo/preferenze", url.Values{"notify": {"sms"}}), "Preferences saved.")
	dxEnglish(t, "wrong password", c.post("/profilo/password", url.Values{"current": {"wrong"}}),
		"The current password is not correct.")
	dxEnglish(t, "bad contacts", c.post("/profilo/recapiti", url.Values{"new_mobile": {"12"}, "new_email": {"x@"},
		"contact_password": {patientPassword}}), "The mobile number is not valid.", "The email address is not valid.")
	dxEnglish(t, "landline", c.post("/profilo/recapiti", url.Values{"new_mobile": {"02 1234567"}, "contact_password": {patientPassword}}),
		"This is not a mobile number")
	dxEnglish(t, "same contacts", dxPost(t, c, "/profilo/recapiti", url.Values{"new_mobile": {"333 1234567"},
		"contact_password": {patientPassword}}), "Your contact details have not changed.")
	dxEnglish(t, "new email", dxPost(t, c, "/profilo/recapiti", url.Values{"new_mobile": {"333 1234567"}, "new_email": {"mario@example.it"},
		"contact_password": {patientPassword}}), "We have sent an email to mario@example.it", "mario@example.it: waiting for confirmation")
	dxEnglish(t, "email withdrawn", dxPost(t, c, "/profilo/recapiti", url.Values{"new_mobile": {"333 1234567"},
		"contact_password": {patientPassword}}), "The address mario@example.it, which was waiting for confirmation, has been cancelled.")
	rec := c.post("/profilo/recapiti", url.Values{"new_mobile": {"333 7654321"}, "contact_password": {patientPassword}})
	dxEnglish(t, "new mobile's code", c.follow(rec), "Confirm your new mobile")

	anon := p.a.englishClient()
	dxEnglish(t, "bad email link", anon.post("/verifica-email", url.Values{"t": {"made-up"}}),
		"The link is not valid or has already been used.")

	dxEnglish(t, "delete the account", c.get("/profilo/elimina"), "Delete account", "Delete your account?",
		"You can sign up again with the same mobile number.", "Your password", "(to confirm)", "Delete my account", "Cancel")
	dxEnglish(t, "delete with a wrong password", c.post("/profilo/elimina", url.Values{"password": {"wrong"}}),
		"The current password is not correct.")
	dxEnglish(t, "deleted", dxPost(t, c, "/profilo/elimina", url.Values{"password": {patientPassword}}), "Your account has been deleted.")
}

func TestTheFamilyPagesSpeakEnglish(t *testing.T) {
	p := dxSetup(t)
	c := p.c
	dxEnglish(t, "family", c.get("/profilo/familiari"), "Family members",
		"only if the family member gave your own mobile number at the front desk", "How it works",
		"Add a family member", "First name", "Last name", "Date of birth", "Place of birth", "Sex", "Male", "Female",
		"Tax code (codice fiscale)", "Add")
	dxEnglish(t, "empty relative", c.post("/profilo/familiari", url.Values{}), "First name is required.",
		"Tax code (codice fiscale) is required.", "Date of birth is required.")
	short := fcRelativeForm(p.childCF)
	short.Set("fiscal_code", "RSSLCU")
	dxEnglish(t, "relative with a short tax code", c.post("/profilo/familiari", short),
		"The tax code (codice fiscale) must have 16 characters.")

	rec := c.post("/profilo/familiari", fcRelativeForm(p.childCF))
	rel := c.follow(rec)
	dxEnglish(t, "relative added", rel, "Family member added: Luca Rossi. Now activate their dossier",
		"Activate a family member's dossier", "Activate Luca Rossi's dossier",
		"I have read the privacy notice and, on behalf of my family member, I consent to viewing their reports online.",
		"Family member's tax code (codice fiscale)", "Activation code", "(from the family member's report pickup slip)", "Activate",
		"Lost your slip, or is the code not working?")
	dxEnglish(t, "the same relative again", c.post("/profilo/familiari", fcRelativeForm(p.childCF)),
		"This family member is already in your profile.")
	relPath := rec.Header().Get("Location")
	dxEnglish(t, "wrong code", c.post(relPath, url.Values{"consent": {"1"}, "fiscal_code": {p.childCF}, "code": {fcUnknownCode}}),
		"The tax code or the activation code is not valid.")
	dxEnglish(t, "short code", c.post(relPath, url.Values{"fiscal_code": {p.childCF}, "code": {"1"}}),
		"To activate the online dossier, please consent to the privacy notice.", "The activation code has 12 characters")
	dxEnglish(t, "relative activated", dxPost(t, c, relPath, url.Values{"consent": {"1"}, "fiscal_code": {p.childCF},
		"code": {p.childCode}}), "Luca's dossier activated.", "Check-up")
	dxEnglish(t, "family with Luca", c.get("/profilo/familiari"), "Luca Rossi", "Open the dossier", "Remove")

	id := strings.TrimSuffix(strings.TrimPrefix(relPath, "/profilo/familiari/"), "/attiva")
	remove := "/profilo/familiari/" + id + "/rimuovi"
	dxEnglish(t, "remove a relative", c.get(remove), "Remove family member", "Remove Luca Rossi from your family members?",
		"You will no longer be able to see the family member's dossier", "Remove", "Cancel")
	dxEnglish(t, "relative removed", dxPost(t, c, remove, nil), "Family member removed: Luca Rossi.")
}

// A relative the desk registered with another mobile: the page explains
// the separate account.
func TestARelativeWithAnotherMobileIsToldInEnglish(t *testing.T) {
	p := dxSetup(t)
	cf := pdBianchiCF(t)
	_, code := p.desk.accept(pdBianchiForm(t, p.a))
	rel := fcAddRelative(t, p.c, url.Values{"first_name": {"Laura"}, "last_name": {"Bianchi"}, "birth_date": {"1990-05-20"},
		"birth_place": {"Milano"}, "sex": {"F"}, "fiscal_code": {cf}})
	rec := fcActivateRelative(p.c, rel, cf, code)
	dxEnglish(t, "another mobile", rec, "The front desk registered your family member with a mobile number different from yours",
		"Create an account for the family member")
	dxEnglish(t, "own dossier again", p.c.activate(rossiCF, p.spareCode), "This dossier is already active on your account.")
	dxEnglish(t, "another patient's mobile", p.c.activate(cf, code),
		"The mobile number the front desk registered for this patient is not the one on your account.")
	dxEnglish(t, "wrong code", p.c.activate(rossiCF, fcUnknownCode), "The tax code or the activation code is not valid.")
}

// A report downloaded from an English page is named "report-ID.pdf".
func TestADownloadedReportIsNamedInEnglish(t *testing.T) {
	p := dxSetup(t)
	rec := p.c.get(fmt.Sprintf("/fascicolo/referti/%d", p.docs[0]))
	if got, want := rec.Header().Get("Content-Disposition"), fmt.Sprintf(`attachment; filename="report-%d.pdf"`, p.docs[0]); got != want {
		t.Fatalf("Content-Disposition %q, want %q", got, want)
	}
}
