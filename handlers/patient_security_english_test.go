package handlers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fse/db"
)

// The privacy notices, the patient's further rights (sharing with a
// doctor, reports by email) and the second factors in English: a patient
// who chose English reads them without an Italian sentence, and a doctor
// whose browser asks for English gets the shared reports in English. The
// desk's pieces of the same components stay Italian.

// seItalian are words of Italian sentences and the portal's Italian names
// of things, which these English pages must not show once the data (names,
// titles, the app's issuer "Referti online", "codice fiscale", the
// Garante's name) is taken out.
var seItalian = regexp.MustCompile(`(?i)(^|[^\p{L}])(il|lo|gli|della|delle|degli|che|sono|suo|sua|questo|questa|quando|può|referto|referti|fascicolo|accedi|esci|informativa|scarica|annulla|conferma|condividi|condivisione|codice|codici|riprovi|scriva|aggiungi|togli|sicurezza|apri)([^\p{L}]|$)`)

// seData is what may stay Italian on an English page: data, and the names
// Italians give to Italian things.
var seData = []string{"Referti online", "codice fiscale", "Garante per la protezione dei dati personali", "Giulia Verdi",
	"Mario Rossi", "Poliambulatorio Test", "Ecografia", "Telefono di Mario", "https://referti.example.it"}

// seEnglish fails unless the part of rec's page that sel selects (main
// when empty) shows every want and no Italian word, and the page says it
// is English.
func seEnglish(t *testing.T, what string, rec *httptest.ResponseRecorder, sel string, want ...string) {
	t.Helper()
	if sel == "" {
		sel = "main"
	}
	doc := parseHTML(t, rec.Body.String())
	wantEnglish(t, what, doc, doc.Find(sel).Text(), seItalian, seData, want...)
}

func TestThePrivacyNoticesSpeakEnglish(t *testing.T) {
	a := newApp(t)
	en := a.englishClient()
	seEnglish(t, "service notice", en.get("/informativa"), ".notice",
		"Privacy notice updated November 2026", "the Italian text of this notice is the binding one",
		"The data controller is the clinic", "Article 9(2)(a) of Regulation (EU) 2016/679",
		"each report stays online for at most 60 days", "lodge a complaint with the Italian Data Protection Authority")
	seEnglish(t, "dossier notice", en.get("/informativa-fascicolo"), ".notice",
		"Privacy notice updated November 2026", "the Italian text of this notice is the binding one",
		"tax code (codice fiscale)", "report pickup slip", "at most 60 days from publication",
		"Every view and every download is logged")
	seEnglish(t, "the consent's summary", en.get("/registrati"), ".summary, .notice-full",
		"In short", "Each report stays online for at most 60 days.", "Read the full privacy notice (updated November 2026)",
		"Open the privacy notice on a page of its own")

	// The Italian notice binds: it does not say it is a translation.
	it := parseHTML(t, a.client().get("/informativa").Body.String())
	if it.Find("[data-testid=notice-binding]").Length() != 0 || !strings.Contains(it.Find(".notice").Text(), "Titolare del trattamento") {
		t.Errorf("the Italian notice changed: %q", it.Find(".notice").Text())
	}
}

func TestSharingAReportWithADoctorSpeaksEnglish(t *testing.T) {
	a := newRightsApp(t, db.ProtectedPaper, nil)
	f := rfSetup(t, a)
	doc, _ := publishReport(t, f.desk, f.ownVisit, "Ecografia")
	f.giulia.get("/lingua/en?torna=/fascicolo")

	seEnglish(t, "the dossier's rights", f.giulia.get(f.dossierPath()), ".report, .controls li:has(a[href$=condividi]), .controls li:has(a[href$=condivisioni]), .controls li:has(a[href$=email])",
		"Share with a doctor", "Hide from the other accounts", "a code the doctor uses with the date of birth", "My shares",
		"Get the reports by email")
	form := fmt.Sprintf("/fascicolo/%d/condividi", f.patient)
	seEnglish(t, "share form", f.giulia.get(form+"?referto="+itoa(doc)), "",
		"Share Giulia Verdi's report Ecografia. You will get a code", "For how long?", "1 hour", "1 day", "14 days",
		"PDFs only", "Create the code", "Cancel")
	rec := f.giulia.post(form, url.Values{"lifetime": {"1y"}})
	seEnglish(t, "refused share", rec, "", "Choose how long the doctor can see the reports: from 1 hour to 14 days.")
	code, status := f.shCreate(t, f.giulia, url.Values{"referto": {itoa(doc)}, "lifetime": {"1d"}})
	if status != http.StatusOK || code == "" {
		t.Fatalf("create share: %d, code %q", status, code)
	}
	seEnglish(t, "code for the doctor", f.giulia.post(form, url.Values{"lifetime": {"1h"}}), "",
		"Code for the doctor", "write it down", "The doctor goes to https://referti.example.it/condivisi", "(to revoke it whenever you like)")
	seEnglish(t, "shares", f.giulia.get("/fascicolo/condivisioni"), "",
		"Shares with doctors", "the whole dossier", "active until", "Revoke", "dossier's access history")

	d := a.doctor()
	d.header.Set("Accept-Language", "en-GB,en;q=0.8")
	seEnglish(t, "doctor's form", d.get("/condivisi"), "",
		"Reports shared by a patient", "Enter the code the patient gave you", "Sharing code", "Patient's date of birth", "Open")
	seEnglish(t, "doctor's wrong birth date", d.post("/condivisi", url.Values{"code": {code}, "birth_date": {"1990-01-01"}}), "",
		"Wrong code or date of birth.")
	if res := shOpen(d, code, rfGiuliaBirth); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("open: %d", res.StatusCode)
	}
	seEnglish(t, "doctor's reports", d.get("/condivisi/referti"), "",
		"Shared reports", "Patient: Giulia Verdi", "Share valid until", "published on", "Download the PDF", "Log out")

	parseHTML(t, f.giulia.get("/fascicolo/condivisioni").Body.String()).Find("[data-share]").Each(func(_ int, s *goquery.Selection) {
		f.giulia.post("/fascicolo/condivisioni/"+s.AttrOr("data-share", "")+"/revoca", nil)
	})
	seEnglish(t, "revoked shares", f.giulia.get("/fascicolo/condivisioni"), "", "Share revoked: the code no longer works.", "revoked on")
	seEnglish(t, "doctor after the revocation", d.follow(d.get("/condivisi/referti")), "",
		"The share has expired or was revoked by the patient.")
}

func TestReportsByEmailSpeakEnglish(t *testing.T) {
	a := newRightsApp(t, db.ProtectedPaper, nil)
	f := rfSetup(t, a)
	f.giulia.get("/lingua/en?torna=/fascicolo")
	f.giulia.get(f.dossierPath()) // shows, and ends, the activation's notice
	page := fmt.Sprintf("/fascicolo/%d/email", f.patient)
	seEnglish(t, "no email yet", f.giulia.get(page), "",
		"Reports by email", "protected by a password", "you need a confirmed email address: add one in My profile")
	edGiveEmail(t, a, f.giulia, rfGiuliaPhone, edEmail)
	seEnglish(t, "the form", f.giulia.get(page), "",
		"Password to open the PDFs", "(at least 10 characters", "Repeat the password", "Your login password", "Send the reports by email")
	seEnglish(t, "passwords that differ", f.giulia.post(page, url.Values{"password": {edPassword}, "password2": {edPassword + "x"},
		"current": {patientPassword}}), "", "The two passwords do not match.")
	seEnglish(t, "accented password", f.giulia.post(page, url.Values{"password": {"Perché-così-1234"}, "password2": {"Perché-così-1234"},
		"current": {patientPassword}}), "", "Use only letters without accents")
	f.edOptIn(f.giulia, edPassword, edPassword)
	seEnglish(t, "on", f.giulia.get(page), "", "Active since", "reports are sent to "+edEmail, "Stop sending them by email",
		"Choose a new password", "Change password")
}

func TestSettingUpAnAuthenticatorAppSpeaksEnglish(t *testing.T) {
	a := newApp(t)
	c := a.client()
	c.header.Set("Accept-Language", "en")
	c = a.registerWith(c, "Mario", "Rossi", "333 1234567", "mario.rossi@example.it")

	seEnglish(t, "security page", c.get("/profilo/sicurezza"), "",
		"Login security", "Passkeys", "Authenticator app", "Add an app", "Code by text message", "Back to My profile")
	rec := c.get("/profilo/sicurezza/app")
	seEnglish(t, "enrolment", rec, "",
		"Add an authenticator app", "Install an authenticator app on your phone", "scan this QR code",
		"type this key", "App code (6 digits)", "App name", "Your password (to confirm)", "Add the app")
	if alt := parseHTML(t, rec.Body.String()).Find(".qrbox svg").AttrOr("aria-label", ""); alt != "QR code to scan with the authenticator app" {
		t.Errorf("the QR code's text alternative is %q", alt)
	}
	seEnglish(t, "wrong first code", c.post("/profilo/sicurezza/app", url.Values{"code": {"000000"}, "password": {patientPassword}}), "",
		"That code is not right: type the 6-digit code the app shows now.")

	mfEnrolPatient(t, a, c, mfPatientApp)
	seEnglish(t, "security page with an app", c.get("/profilo/sicurezza"), "",
		"Telefono di Mario", "Added on", "Remove this app", "we no longer send you a code by text message",
		"Recovery codes", "You have 10 codes left.", "Create new codes")
	factors := mfFactors(t, a, db.AccountOwner(accountIDOf(t, a, rossiMobile)))
	seEnglish(t, "removal", c.get(fmt.Sprintf("/profilo/sicurezza/app/%d/rimuovi", factors[0].ID)), "",
		"Remove the app “Telefono di Mario”?", "we will no longer ask for this app's code", "Remove the app")
	seEnglish(t, "new codes refused", c.post("/profilo/sicurezza/codici", url.Values{"password": {"wrong"}}), ".card:has(#f-password) label",
		"Your password", "(to create new codes; the old ones will stop working)")

	// The second step of a login, before the account is known.
	a.later()
	l := a.englishClient()
	paWantRedirect(t, "password step", l.post("/accedi", url.Values{"identifier": {"333 1234567"}, "password": {patientPassword}}), "/accedi/app")
	seEnglish(t, "app code at login", l.get("/accedi/app"), "",
		"App code", "(the 6 digits the app shows for “Referti online”)", "Confirm", "Lost your phone?")
	seEnglish(t, "wrong code at login", l.post("/accedi/app", url.Values{"code": {"000000"}}), ".field-error",
		"That code is not right. Check the app's code or the recovery code and try again.")
}

func TestThePasskeyPiecesSpeakEnglish(t *testing.T) {
	a := newApp(t)
	c := a.client()
	c.header.Set("Accept-Language", "en")
	c = a.registerWith(c, "Mario", "Rossi", "333 1234567", "")
	rec := c.get("/profilo/sicurezza")
	seEnglish(t, "passkey section", rec, "[data-testid=passkeys-section]",
		"With a passkey you log in without typing your password", "Passkey name", "Your password (to confirm)",
		"Add a passkey", "This browser does not support passkeys")
	box := parseHTML(t, rec.Body.String()).Find("[data-passkey-error]").First()
	for attr, want := range map[string]string{"data-msg-generic": "Something went wrong", "data-msg-cancelled": "Cancelled or timed out",
		"data-msg-exists": "This device already has a passkey", "data-msg-failed": "The passkey did not work"} {
		if got := box.AttrOr(attr, ""); !strings.HasPrefix(got, want) {
			t.Errorf("the script's %s is %q, want %q…", attr, got, want)
		}
	}
	// The script itself holds no words.
	if js := c.get("/static/passkey.js").Body.String(); seItalian.MatchString(js) || strings.Contains(js, "Riprov") {
		t.Errorf("passkey.js holds Italian words")
	}

	// The server's answers to the script.
	if r := pkRead(t, c.postJSON("/profilo/sicurezza/passkey", []byte(`{}`))); r.Error != "The page had expired. Please try again." {
		t.Errorf("an answer without its ceremony: %q", r.Error)
	}
	anon := a.englishClient()
	if r := pkRead(t, anon.post("/accedi/app/passkey/opzioni", nil)); r.Error != "The page had expired: please log in again." {
		t.Errorf("a second step without its password: %q", r.Error)
	}
}

// The desk's pages share the factor pieces: they stay Italian for a
// browser that prefers English.
func TestTheDeskFactorPiecesStayItalian(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	desk.header.Set("Accept-Language", "en")
	doc := parseHTML(t, desk.get("/desk/security/app").Body.String())
	text := doc.Find("main").Text()
	for _, want := range []string{"Installi sul telefono un'app di autenticazione", "Codice dell'app", "Aggiungi l'app"} {
		if !strings.Contains(text, want) {
			t.Errorf("the desk's enrolment page lacks %q", want)
		}
	}
	if alt := doc.Find(".qrbox svg").AttrOr("aria-label", ""); alt != "Codice QR da inquadrare con l'app di autenticazione" {
		t.Errorf("the desk's QR code's text alternative is %q", alt)
	}
	if msg := doc.Find("[data-passkey-error]").AttrOr("data-msg-generic", ""); msg != "Qualcosa non ha funzionato. Riprovi." {
		t.Errorf("the desk's passkey script would say %q", msg)
	}
}

// An app an English patient does not name is stored as "Authenticator
// app" (an Italian one as "App di autenticazione"), the name the security
// page shows.
func TestAnUnnamedAppIsNamedInThePatientsLanguage(t *testing.T) {
	a := newApp(t)
	c := a.registerWith(a.englishClient(), "Mario", "Rossi", "333 1234567", "")
	rec := c.get("/profilo/sicurezza/app")
	a.rememberApp(mfPatientApp, mfSecret(t, rec))
	rec = c.post("/profilo/sicurezza/app", url.Values{"code": {a.appCode(mfPatientApp)}, "name": {"  "}, "password": {patientPassword}})
	paWantRedirect(t, "confirm the app", rec, "/profilo/sicurezza/codici")
	factors := mfFactors(t, a, db.AccountOwner(accountIDOf(t, a, rossiMobile)))
	if len(factors) != 1 || factors[0].Name != "Authenticator app" {
		t.Fatalf("factors %+v, want one named Authenticator app", factors)
	}
}
