package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fse/handlers"
)

// The public pages (registration, login, the SMS codes, password reset,
// activation, the help page, the error pages) speak English to a visitor
// who chose it, and their Italian words are gone.

// assertSpeaks fails unless body holds every English phrase and none of
// the Italian ones.
func assertSpeaks(t *testing.T, what, body string, english, italian []string) {
	t.Helper()
	for _, w := range english {
		if !strings.Contains(body, w) {
			t.Errorf("%s: no %q", what, w)
		}
	}
	for _, w := range italian {
		if strings.Contains(body, w) {
			t.Errorf("%s still says %q", what, w)
		}
	}
}

func TestRegistrationSpeaksEnglish(t *testing.T) {
	a := newApp(t)
	c := a.englishClient()
	assertSpeaks(t, "consent step", c.get("/registrati").Body.String(),
		[]string{"<title>Sign up · Online medical reports</title>", "Sign up · 1 of 3: consent", "<strong>I consent</strong>", ">Continue<",
			"Log in", ">Help<"},
		[]string{"Registrazione", "acconsento", "Continua", "Domande frequenti", "Accedi<"})

	rec := c.post("/registrati", url.Values{})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("no consent: %d", rec.Code)
	}
	assertSpeaks(t, "refused consent", rec.Body.String(),
		[]string{"There is a problem", "you need to give your consent", "Frequently asked questions: Can I collect the report on paper?"},
		[]string{"C&#39;è un problema", "occorre dare il consenso", "Posso ritirare"})

	if rec := c.post("/registrati", url.Values{"consent": {"1"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("consent: %d", rec.Code)
	}
	assertSpeaks(t, "profile step", c.get("/registrati/profilo").Body.String(),
		[]string{"Sign up · 2 of 3: your profile", "First name", "Last name", "Mobile", "Which number should I use?",
			"Repeat the password", "Send the code by text message", `data-show="Show"`, `data-hide-name="Hide the password"`},
		[]string{"Cognome", "Cellulare", "Ripeta", "Invia il codice", "Mostra", "Nascondi"})

	rec = c.post("/registrati/profilo", url.Values{"mobile": {"02 1234 5678"}, "password": {patientPassword}, "password2": {patientPassword}})
	assertSpeaks(t, "refused profile", rec.Body.String(),
		[]string{"Enter your first name.", "Enter your last name.", "This is not a mobile number"},
		[]string{"Inserisca", "non è un cellulare"})
	rec = c.post("/registrati/profilo", url.Values{"first_name": {"Anna"}, "last_name": {"Smith"}, "mobile": {"333 7654321"},
		"password": {"password123"}, "password2": {"password123"}})
	assertSpeaks(t, "weak password", rec.Body.String(), []string{"This password is very common or easy to guess"}, []string{"molto comune"})
	rec = c.post("/registrati/profilo", url.Values{"first_name": {"Anna"}, "last_name": {"Zanardelli"}, "mobile": {"333 7654321"},
		"password": {"zanardelli estate"}, "password2": {"zanardelli estate"}})
	assertSpeaks(t, "personal password", rec.Body.String(), []string{"It contains your name, your number or other personal details"},
		[]string{"dati personali"})
	rec = c.post("/registrati/profilo", url.Values{"first_name": {"Anna"}, "last_name": {"Smith"}, "mobile": {"333 7654321"},
		"password": {patientPassword}, "password2": {patientPassword + "!"}})
	assertSpeaks(t, "different passwords", rec.Body.String(), []string{"The two passwords do not match."}, []string{"non coincidono"})

	rec = c.post("/registrati/profilo", url.Values{"first_name": {"Anna"}, "last_name": {"Smith"}, "mobile": {"333 7654321"},
		"password": {patientPassword}, "password2": {patientPassword}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("profile: %d\n%s", rec.Code, rec.Body.String())
	}
	// The code's SMS speaks the language of the registration.
	sms := a.smsTo("+393337654321")
	if len(sms) != 1 {
		t.Fatalf("%d SMS, want 1", len(sms))
	}
	assertSpeaks(t, "registration SMS", sms[0],
		[]string{"Online medical reports: your verification code is", "It expires in 10 minutes.", "Do not share it with anyone."},
		[]string{"codice", "Scade", "comunichi"})

	assertSpeaks(t, "code step", c.get("/registrati/codice").Body.String(),
		[]string{"Verify your mobile · Online medical reports", "Sign up · 3 of 3: text-message code", "We have sent a 6-digit code by text message to <strong>••• ••• 4321</strong>",
			"Code received by text message", ">Send a new code<", "Haven&#39;t received the code?"},
		[]string{"Abbiamo inviato", "Codice ricevuto", "Invia un nuovo codice", "Il codice non arriva"})
	code := a.lastSMSCode("+393337654321")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	assertSpeaks(t, "wrong code", c.post("/registrati/codice", url.Values{"code": {wrong}}).Body.String(),
		[]string{"The code is not correct. Check the text message and try again.", "Frequently asked questions: The code does not work or has expired"},
		[]string{"non è corretto"})
	rec = c.post("/registrati/codice", url.Values{"resend": {"1"}})
	assertSpeaks(t, "resent code", rec.Body.String(), []string{"We have sent you a new code."}, []string{"Le abbiamo inviato"})
	if sms := a.smsTo("+393337654321"); len(sms) != 2 || !strings.Contains(sms[1], "your verification code") {
		t.Fatalf("resent SMS: %q", sms)
	}
	rec = c.post("/registrati/codice", url.Values{"code": {a.lastSMSCode("+393337654321")}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/attiva" {
		t.Fatalf("code: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	assertSpeaks(t, "after registration", c.get("/attiva").Body.String(),
		[]string{"You have signed up. Now activate your dossier", "My dossier", "My profile", "Log out"},
		[]string{"Registrazione completata", "Il mio fascicolo", "Il mio profilo", ">Esci<"})
}

func TestActivationPageSpeaksEnglish(t *testing.T) {
	a := newApp(t)
	_, code := a.deskClient().accept(a.acceptForm())
	c := a.registerWith(a.englishClient(), "Mario", "Rossi", "333 1234567", "")
	assertSpeaks(t, "activation page", c.get("/attiva").Body.String(),
		[]string{"<h1>Activate your dossier</h1>", "<strong>I consent</strong> to viewing my reports online", "Tax code (codice fiscale)",
			"Activation code", "(printed on the report pickup slip, e.g. ABCD-EFGH-JKMN)", ">Activate<", "Lost your slip, or is the code not working?"},
		[]string{"Attivazione del fascicolo", "acconsento", "Codice di attivazione", "stampato sul modulo", "Ha perso il modulo", ">Attiva<"})
	rec := c.activate(rossiCF, code)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/fascicolo" {
		t.Fatalf("activate: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
}

func TestLoginSpeaksEnglish(t *testing.T) {
	a := newAppWith(t, func(cfg *handlers.Config) { cfg.RequireLoginOTP = true })
	a.register("Mario", "Rossi", "333 1234567", "")
	c := a.englishClient()
	assertSpeaks(t, "login page", c.get("/accedi").Body.String(),
		[]string{"<title>Log in · Online medical reports</title>", "<h1>Log in</h1>", "Mobile or email", "Forgotten your password?",
			"First time here?", ">Sign up<"},
		[]string{"Cellulare o email", "Password dimenticata", "Primo accesso", "Registrati<"})
	assertSpeaks(t, "empty login", c.post("/accedi", url.Values{}).Body.String(),
		[]string{"Enter the mobile or email you signed up with.", "Enter your password."}, []string{"Inserisca"})
	assertSpeaks(t, "wrong password", c.post("/accedi", url.Values{"identifier": {"3331234567"}, "password": {"una password sbagliata"}}).Body.String(),
		[]string{"Incorrect mobile, email or password."}, []string{"non corretti"})

	rec := c.post("/accedi", url.Values{"identifier": {"3331234567"}, "password": {patientPassword}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/accedi/codice" {
		t.Fatalf("login: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	// The login's code speaks the login page's language, though the
	// account was registered in Italian.
	sms := a.smsTo(rossiMobile)
	assertSpeaks(t, "login SMS", sms[len(sms)-1], []string{"your verification code"}, []string{"codice"})
	assertSpeaks(t, "login code page", c.get("/accedi/codice").Body.String(),
		[]string{"<h1>Login code</h1>", "A passkey or an authenticator app on your phone is safer", "My profile → Security"},
		[]string{"Codice di accesso", "più sicura"})
	rec = c.post("/accedi/codice", url.Values{"code": {a.lastSMSCode(rossiMobile)}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login code: %d", rec.Code)
	}
	if rec := c.post("/esci", url.Values{}); rec.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", rec.Code)
	}
	assertSpeaks(t, "after logout", c.get("/accedi").Body.String(),
		[]string{"You have logged out. To get back to your reports, log in again."}, []string{"Ha chiuso la sessione"})
}

func TestLoginLockSpeaksEnglish(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "")
	c := a.englishClient()
	rec := c.post("/accedi", url.Values{"identifier": {"3331234567"}, "password": {"wrong"}})
	for i := 0; i < 11 && rec.Code != http.StatusTooManyRequests; i++ {
		rec = c.post("/accedi", url.Values{"identifier": {"3331234567"}, "password": {"wrong"}})
	}
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("no lock after 11 wrong passwords: %d", rec.Code)
	}
	assertSpeaks(t, "locked login", rec.Body.String(),
		[]string{"Too many failed attempts. Try again in 15 minutes, or use “Forgotten password”."}, []string{"Troppi tentativi", "minuti"})
}

func TestPasswordResetSpeaksEnglish(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "")
	c := a.englishClient()
	assertSpeaks(t, "forgot page", c.get("/password-dimenticata").Body.String(),
		[]string{"<h1>Forgotten password</h1>", "Enter your account&#39;s mobile or email", ">Send the code<"},
		[]string{"Password dimenticata", "Inserisca", "Invia il codice"})
	rec := c.post("/password-dimenticata", url.Values{"identifier": {"333 1234567"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("forgot: %d", rec.Code)
	}
	sms := a.smsTo(rossiMobile)
	assertSpeaks(t, "reset SMS", sms[len(sms)-1], []string{"your verification code", "It expires in 15 minutes."}, []string{"codice", "minuti"})
	assertSpeaks(t, "reset page", c.get("/password-dimenticata/codice").Body.String(),
		[]string{"<h1>New password</h1>", "The code is valid for 15 minutes.", "Repeat the new password", ">Change password<"},
		[]string{"Nuova password", "Ripeta", "Cambia password"})
	code := a.lastSMSCode(rossiMobile)
	assertSpeaks(t, "short password", c.post("/password-dimenticata/codice", url.Values{"code": {code},
		"password": {"abc"}, "password2": {"abc"}}).Body.String(),
		[]string{"The password must be at least 10 characters long."}, []string{"almeno 10 caratteri"})
	rec = c.post("/password-dimenticata/codice", url.Values{"code": {code}, "password": {"un altro gatto blu salta alto"},
		"password2": {"un altro gatto blu salta alto"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/accedi" {
		t.Fatalf("reset: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	assertSpeaks(t, "after reset", c.get("/accedi").Body.String(),
		[]string{"Password changed. Log in with your new password."}, []string{"Password cambiata"})
}

func TestHelpPageSpeaksEnglish(t *testing.T) {
	a := newApp(t)
	body := a.englishClient().get("/aiuto").Body.String()
	assertSpeaks(t, "help page", body,
		[]string{"<title>Frequently asked questions · Online medical reports</title>", "<h1>Frequently asked questions</h1>",
			`content="Frequently asked questions about Online medical reports`, "Why can&#39;t I see my report?",
			"Each report stays online for at most", "I have lost the report pickup slip", "How do I see a family member&#39;s reports?",
			">Family members<", ">Activate your dossier<", "Back to the home page"},
		[]string{"Domande frequenti", "Perché non vedo", "Ogni referto resta online", "Familiari<", "Torna alla pagina iniziale"})
	// The anchors stay those of the Italian addresses the slip prints.
	if !strings.Contains(body, `id="cellulare"`) {
		t.Error("the help page's anchors changed")
	}
}

// The home page's description for search engines, and the pages of the
// privacy notices, follow the language too.
func TestPublicFrameSpeaksEnglish(t *testing.T) {
	a := newApp(t)
	c := a.englishClient()
	assertSpeaks(t, "home page", c.get("/").Body.String(),
		[]string{"<title>Online medical reports</title>", `content="Online medical reports: download`, ">Menu<"},
		[]string{"scarichi da casa"})
	assertSpeaks(t, "service notice", c.get("/informativa").Body.String(),
		[]string{"<title>Service privacy notice · Online medical reports</title>", "Privacy notice for the Online medical reports service"},
		[]string{"Informativa sul servizio"})
	assertSpeaks(t, "dossier notice", c.get("/informativa-fascicolo").Body.String(),
		[]string{"Dossier privacy notice", "Privacy notice for the online dossier"}, []string{"Informativa sul fascicolo"})
}

func TestNotFoundPageSpeaksTheBrowsersLanguage(t *testing.T) {
	a := newApp(t)
	c := a.client()
	c.header.Set("Accept-Language", "en-GB,en;q=0.9")
	rec := c.get("/referti-vecchi")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d", rec.Code)
	}
	assertSpeaks(t, "English 404", rec.Body.String(),
		[]string{`<html lang="en">`, "<title>Page not found · Online medical reports</title>", "<h1>Page not found.</h1>",
			"The address may be wrong", ">Back to the home page<", ">Frequently asked questions<", "Error code: 404"},
		[]string{"Pagina non trovata", "L&#39;indirizzo potrebbe", "Torna alla pagina iniziale", "Codice dell"})
	// The desk stays Italian, even for an address no route knows.
	assertSpeaks(t, "desk 404", c.get("/desk/nessuna-pagina").Body.String(),
		[]string{"Pagina non trovata.", "Errore · Referti online"}, []string{"Page not found", "Online medical reports"})
	// An Italian browser keeps the Italian page.
	assertSpeaks(t, "Italian 404", a.client().get("/referti-vecchi").Body.String(),
		[]string{"Pagina non trovata.", "Torna alla pagina iniziale", "Codice dell&#39;errore: 404"}, []string{"Page not found"})
}

// A logged-in English patient's session that ended says so in English.
func TestEndedSessionSpeaksEnglish(t *testing.T) {
	a := newApp(t)
	c := a.registerWith(a.englishClient(), "Anna", "Smith", "333 7654321", "")
	// Another browser's password reset ends every session of the account.
	other := a.englishClient()
	other.post("/password-dimenticata", url.Values{"identifier": {"3337654321"}})
	pw := "un altro gatto blu salta alto"
	if rec := other.post("/password-dimenticata/codice", url.Values{"code": {a.lastSMSCode("+393337654321")}, "password": {pw},
		"password2": {pw}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("reset: %d", rec.Code)
	}
	rec := c.get("/fascicolo")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("ended session: %d", rec.Code)
	}
	assertSpeaks(t, "ended session", c.get("/accedi").Body.String(),
		[]string{"Your session has ended: please log in again."}, []string{"La sessione è terminata"})
}

// The middleware's refusals on the patient routes speak English too: the
// flood control and a form posted from another site.
func TestRefusalsSpeakEnglish(t *testing.T) {
	a := newApp(t)
	c := a.englishClient()
	rec := c.post("/registrati/profilo", url.Values{})
	for i := 0; i < 25 && rec.Code != http.StatusTooManyRequests; i++ {
		rec = c.post("/registrati/profilo", url.Values{})
	}
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("no flood control: %d", rec.Code)
	}
	assertSpeaks(t, "flood control", rec.Body.String(),
		[]string{"Too many requests from this address. Wait a few minutes and try again.", "Error code: 429"},
		[]string{"Troppe richieste", "Attenda"})

	other := a.englishClient()
	other.header.Set("Sec-Fetch-Site", "cross-site")
	rec = other.post("/accedi", url.Values{"identifier": {"3331234567"}, "password": {patientPassword}})
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "Request refused: it comes from another site.") {
		t.Fatalf("cross-site post: %d %q", rec.Code, rec.Body.String())
	}
}

// A logged-in patient's codes speak the account's language, even on a
// browser that shows the pages in the other one.
func TestALoggedInPatientsCodeSpeaksTheAccountsLanguage(t *testing.T) {
	a := newApp(t)
	a.registerWith(a.englishClient(), "Anna", "Smith", "333 7654321", "")
	c := a.client()
	c.cookies["fse_lang"] = &http.Cookie{Name: "fse_lang", Value: "it"}
	if rec := c.post("/accedi", url.Values{"identifier": {"3337654321"}, "password": {patientPassword}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d", rec.Code)
	}
	rec := c.post("/profilo/recapiti", url.Values{"new_mobile": {"333 7654322"}, "contact_password": {patientPassword}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("new mobile: %d\n%s", rec.Code, rec.Body.String())
	}
	sms := a.smsTo("+393337654322")
	if len(sms) != 1 {
		t.Fatalf("%d SMS to the new mobile, want 1", len(sms))
	}
	assertSpeaks(t, "new mobile's code", sms[0], []string{"your verification code"}, []string{"codice"})
}
