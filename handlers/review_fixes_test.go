package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fse/db"
	"fse/internal/codicefiscale"
	"fse/internal/notify"
)

// TestLoginLockoutParallel: guesses sent at once cannot outrun the lockout.
// At most 10 passwords are checked, whatever the concurrency; then even
// the right password is refused until the lock ends.
func TestLoginLockoutParallel(t *testing.T) {
	for _, tt := range []struct {
		name, path, field, id, good string
	}{
		{"patient", "/accedi", "identifier", "333 1234567", patientPassword},
		{"staff", "/desk/login", "username", receptionUser, receptionPass},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t)
			if tt.name == "patient" {
				a.register("Mario", "Rossi", "333 1234567", "")
			}
			const n = 40
			codes := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := a.client()
					c.ip = "198.51.100." + itoa(int64(i%250+1)) // many IPs: the per-IP limit does not help
					pw := "sbagliata numero " + itoa(int64(i))
					codes[i] = c.post(tt.path, url.Values{tt.field: {tt.id}, "password": {pw}}).Code
				}()
			}
			wg.Wait()
			checked := 0
			for _, code := range codes {
				if code != http.StatusTooManyRequests {
					checked++
				}
			}
			if checked > 10 {
				t.Errorf("%d of %d parallel attempts were checked, want at most 10", checked, n)
			}
			failed := a.auditActions(db.AuditFilter{Outcome: db.OutcomeFailed})
			if len(failed) > 10 {
				t.Errorf("%d failed logins audited, want at most 10", len(failed))
			}
			// The owner's right password is refused until the lock ends.
			if code := a.client().post(tt.path, url.Values{tt.field: {tt.id}, "password": {tt.good}}).Code; code != http.StatusTooManyRequests {
				t.Errorf("right password after the burst: %d, want 429", code)
			}
		})
	}
}

// TestSMSCodeDailyBudget: guessing is bounded by 5 tries per code and 10
// codes a day per purpose (50 guesses a day at a million codes), and what
// anyone can trigger with a victim's number (registrations, resets) cannot
// use up the codes of the victim's login, which needs the password.
func TestSMSCodeDailyBudget(t *testing.T) {
	a := newApp(t)
	holder := a.register("Mario", "Rossi", "333 1234567", "")
	holder.post("/profilo/preferenze", url.Values{"notify": {"sms"}, "login_otp": {"1"}})
	attacker := a.client()
	before := len(a.smsTo(rossiMobile))
	for i := range 12 {
		attacker.ip = "198.51.100." + itoa(int64(i+1))
		// Past the limit the answer stays the same (a 429 would tell that the
		// number has an account); nothing is sent.
		if rec := attacker.post("/password-dimenticata", url.Values{"identifier": {"3331234567"}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("reset request %d: %d, want 303", i, rec.Code)
		}
		for range 5 {
			attacker.post("/password-dimenticata/codice", url.Values{"code": {"000000"}, "password": {"un'altra frase segreta lunga"},
				"password2": {"un'altra frase segreta lunga"}})
		}
		// Registrations with the victim's number, by anyone.
		attacker.post("/registrati", url.Values{"consent": {"1"}})
		attacker.post("/registrati/profilo", url.Values{"first_name": {"X"}, "last_name": {"Y"}, "mobile": {"3331234567"},
			"password": {patientPassword}, "password2": {patientPassword}})
		a.advance(16 * time.Minute)
	}
	// Registrations and resets by strangers share one budget per number.
	if sent := len(a.smsTo(rossiMobile)) - before; sent == 0 || sent > 10 {
		t.Errorf("codes sent to the number in a day = %d, want some and at most 10", sent)
	}
	// The victim still logs in with an SMS code.
	if rec := a.client().post("/accedi", url.Values{"identifier": {"3331234567"}, "password": {patientPassword}}); rec.Header().Get("Location") != "/accedi/codice" {
		t.Fatalf("victim's login after the attack: %d %s, want the SMS step", rec.Code, rec.Header().Get("Location"))
	}
}

// slowGateway answers after a delay, or fails.
type slowGateway struct {
	delay time.Duration
	fail  bool
}

func (g slowGateway) Send(ctx context.Context, m notify.Message) error {
	time.Sleep(g.delay)
	if g.fail {
		return errors.New("gateway down")
	}
	return nil
}

// TestNeutralFlowsAnswerAlike: registration and password reset answer the
// same, in status and in time, whether the number has an account or not,
// and whether the SMS gateway works or not.
func TestNeutralFlowsAnswerAlike(t *testing.T) {
	for _, gw := range []slowGateway{{delay: 300 * time.Millisecond}, {delay: 300 * time.Millisecond, fail: true}} {
		a := newApp(t)
		a.register("Mario", "Rossi", "333 1234567", "")
		a.h.SMS = gw
		for _, tt := range []struct {
			name, path string
			form       url.Values
		}{
			{"reset known", "/password-dimenticata", url.Values{"identifier": {"3331234567"}}},
			{"reset unknown", "/password-dimenticata", url.Values{"identifier": {"3470001111"}}},
		} {
			start := time.Now()
			rec := a.client().post(tt.path, tt.form)
			took := time.Since(start)
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/password-dimenticata/codice" {
				t.Errorf("%s (gateway fail=%v): %d %s, want 303 to the code page", tt.name, gw.fail, rec.Code, rec.Header().Get("Location"))
			}
			if took > 200*time.Millisecond {
				t.Errorf("%s waited %v for the gateway: the delay tells whether the account exists", tt.name, took)
			}
		}
		a.h.Wait()
	}
}

// TestPendingLoginVoidAfterReset: a login whose password step was done
// before the password changed cannot be completed with the SMS code.
func TestPendingLoginVoidAfterReset(t *testing.T) {
	a := newApp(t)
	holder := a.register("Mario", "Rossi", "333 1234567", "")
	holder.post("/profilo/preferenze", url.Values{"notify": {"sms"}, "login_otp": {"1"}})
	thief := a.client()
	if rec := thief.post("/accedi", url.Values{"identifier": {"3331234567"}, "password": {patientPassword}}); rec.Header().Get("Location") != "/accedi/codice" {
		t.Fatalf("password step: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	loginCode := a.lastSMSCode(rossiMobile)
	a.advance(time.Minute)
	owner := a.client()
	owner.post("/password-dimenticata", url.Values{"identifier": {"3331234567"}})
	newPw := "una nuova frase per il portale"
	if rec := owner.post("/password-dimenticata/codice", url.Values{"code": {a.lastSMSCode(rossiMobile)}, "password": {newPw}, "password2": {newPw}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("reset: %d", rec.Code)
	}
	a.advance(time.Second)
	rec := thief.post("/accedi/codice", url.Values{"code": {loginCode}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/accedi" {
		t.Errorf("code after reset: %d %s, want 303 to /accedi", rec.Code, rec.Header().Get("Location"))
	}
	if rec := thief.get("/profilo"); rec.Code != http.StatusSeeOther {
		t.Errorf("profile after the voided login: %d, want 303", rec.Code)
	}
}

// TestStaffReadsAudited: the desk reading a patient's data is logged, and
// the patient sees it; a search logs that it happened, not what was typed.
func TestStaffReadsAudited(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	visitID, code := desk.accept(a.acceptForm())
	p, _ := a.db.PatientByFiscalCode(context.Background(), rossiCF)
	desk.get("/desk?q=Rossi")
	desk.get("/desk/patients/" + itoa(p.ID))
	desk.get("/desk/visits/" + itoa(visitID))
	for _, action := range []string{"patient.search", "patient.view", "visit.view"} {
		if ev := a.auditActions(db.AuditFilter{Action: action}); len(ev) != 1 || ev[0].Actor.Name != receptionUser {
			t.Errorf("audit %s = %+v, want one row by %s", action, ev, receptionUser)
		}
	}
	var leaked int
	a.raw.QueryRow(`SELECT count(*) FROM audit_events WHERE detail LIKE '%Rossi%'`).Scan(&leaked)
	if leaked != 0 {
		t.Error("the search text reached the audit log")
	}
	c := a.register("Mario", "Rossi", "333 1234567", "")
	c.activate(rossiCF, code)
	body := c.get("/fascicolo/accessi").Body.String()
	for _, want := range []string{"Consultazione della scheda anagrafica da parte del personale", "Consultazione di un&#39;accettazione da parte del personale"} {
		if !strings.Contains(body, want) {
			t.Errorf("patient's access log lacks %q", want)
		}
	}
}

// TestDisableDropsQueuedNotices: turning a dossier off, or resetting it,
// stops notices already queued but not yet sent.
func TestDisableDropsQueuedNotices(t *testing.T) {
	for _, action := range []string{"disattiva", "azzera"} {
		t.Run(action, func(t *testing.T) {
			a := newApp(t)
			visitID, code, _ := a.publishedVisit()
			c := a.register("Mario", "Rossi", "333 1234567", "")
			c.activate(rossiCF, code)
			desk := a.deskClient()
			desk.upload(visitID, file{"Secondo referto", "b.pdf", samplePDF(t, "Secondo")})
			desk.post("/desk/visits/"+itoa(visitID)+"/publish", nil)
			count := func() (n int) {
				a.raw.QueryRow(`SELECT count(*) FROM outbox WHERE kind = 'report_available' AND sent_at IS NULL`).Scan(&n)
				return n
			}
			if count() != 1 {
				t.Fatalf("queued notices before %s = %d, want 1", action, count())
			}
			p, _ := a.db.PatientByFiscalCode(context.Background(), rossiCF)
			if rec := c.post("/fascicolo/"+itoa(p.ID)+"/"+action, nil); rec.Code != http.StatusSeeOther {
				t.Fatalf("%s: %d", action, rec.Code)
			}
			if count() != 0 {
				t.Errorf("queued notices after %s = %d, want 0", action, count())
			}
		})
	}
}

// TestNoSMSFlood: repeated registrations with a registered number send its
// owner one warning a day, and no number gets more than 10 codes a day.
func TestNoSMSFlood(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "")
	for i := range 12 {
		c := a.client()
		c.ip = "198.51.100." + itoa(int64(i+1))
		c.post("/registrati", url.Values{"consent": {"1"}})
		c.post("/registrati/profilo", url.Values{"first_name": {"X"}, "last_name": {"Y"}, "mobile": {"3331234567"},
			"password": {patientPassword}, "password2": {patientPassword}})
		a.advance(16 * time.Minute)
	}
	var warnings int
	a.raw.QueryRow(`SELECT count(*) FROM outbox WHERE kind = 'security' AND channel = 'sms'`).Scan(&warnings)
	if warnings != 1 {
		t.Errorf("warnings to the owner after 12 attempts = %d, want 1", warnings)
	}
	before := len(a.smsTo(rossiMobile))
	for i := range 40 {
		c := a.client()
		c.ip = "198.51.100." + itoa(int64(i+1))
		c.post("/password-dimenticata", url.Values{"identifier": {"3331234567"}})
		a.advance(6 * time.Minute)
	}
	if got := len(a.smsTo(rossiMobile)) - before; got > 10 {
		t.Errorf("reset codes sent in 4 hours = %d, want at most 10 a day", got)
	}
}

// TestPatientOwnsTheirDossier: once the patient has their own account, a
// parent's family link cannot turn the service back on or reset it, and
// the patient can end the parent's access. Any account can unlink a
// dossier from itself.
func TestPatientOwnsTheirDossier(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	desk := a.deskClient()
	lucaCF, _ := codicefiscale.Generate("Rossi", "Luca", time.Date(2005, 6, 3, 0, 0, 0, 0, time.UTC), "M", "E897")
	luca := a.acceptForm()
	luca.Set("fiscal_code", lucaCF)
	luca.Set("first_name", "Luca")
	luca.Set("birth_date", "2005-06-03")
	lucaVisit, parentCode := desk.accept(luca) // registered with the father's mobile
	desk.upload(lucaVisit, file{"Visita", "v.pdf", samplePDF(t, "Visita")})
	desk.post("/desk/visits/"+itoa(lucaVisit)+"/publish", nil)
	father := a.register("Mario", "Rossi", "333 1234567", "")
	if rec := father.post("/profilo/familiari", url.Values{"first_name": {"Luca"}, "last_name": {"Rossi"}, "birth_date": {"2005-06-03"},
		"birth_place": {"Mantova"}, "sex": {"M"}, "fiscal_code": {lucaCF}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("add relative: %d", rec.Code)
	}
	rels, _ := a.db.Relatives(ctx, 1)
	if rec := father.post("/profilo/familiari/"+itoa(rels[0].ID)+"/attiva", url.Values{"consent": {"1"}, "fiscal_code": {lucaCF}, "code": {parentCode}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("family activation: %d", rec.Code)
	}
	// Luca, now adult, gives the desk his own mobile and activates his own dossier.
	luca.Set("mobile", "347 222 3333")
	_, ownCode := desk.accept(luca)
	son := a.register("Luca", "Rossi", "347 222 3333", "")
	if rec := son.activate(lucaCF, ownCode); rec.Code != http.StatusSeeOther {
		t.Fatalf("own activation: %d", rec.Code)
	}
	p, _ := a.db.PatientByFiscalCode(ctx, lucaCF)
	pid := itoa(p.ID)

	son.post("/fascicolo/"+pid+"/disattiva", nil)
	if rec := father.post("/fascicolo/"+pid+"/riattiva", url.Values{"consent": {"1"}}); rec.Code != http.StatusForbidden {
		t.Errorf("father re-enabling the son's dossier: %d, want 403", rec.Code)
	}
	if rec := father.post("/fascicolo/"+pid+"/azzera", nil); rec.Code != http.StatusForbidden {
		t.Errorf("father resetting the son's dossier: %d, want 403", rec.Code)
	}
	if p, _ := a.db.Patient(ctx, p.ID); !p.OnlineDisabled() {
		t.Error("the father turned the son's service back on")
	}
	son.post("/fascicolo/"+pid+"/riattiva", url.Values{"consent": {"1"}})
	docs, _ := a.db.VisitDocuments(ctx, lucaVisit)
	if rec := father.get("/fascicolo/referti/" + itoa(docs[0].ID) + "/elimina"); rec.Code != http.StatusForbidden {
		t.Errorf("father's deletion page for the son's report: %d, want 403", rec.Code)
	}
	if strings.Contains(father.get("/fascicolo?p="+pid).Body.String(), "/elimina") {
		t.Error("the father is offered a deletion he would be refused")
	}
	if rec := father.post("/fascicolo/referti/"+itoa(docs[0].ID)+"/elimina", nil); rec.Code != http.StatusForbidden {
		t.Errorf("father deleting the son's report: %d, want 403", rec.Code)
	}
	if docs, _ := a.db.VisitDocuments(ctx, lucaVisit); len(docs) != 1 {
		t.Error("the father deleted the son's report")
	}
	if rec := father.post("/fascicolo/"+pid+"/revoca", nil); rec.Code != http.StatusForbidden {
		t.Errorf("father revoking the son's access: %d, want 403", rec.Code)
	}
	if rec := son.post("/fascicolo/"+pid+"/revoca", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("son revoking others: %d", rec.Code)
	}
	if links, _ := a.db.DossierLinks(ctx, 1); len(links) != 0 {
		t.Errorf("father still has %d dossier links after the son revoked others", len(links))
	}
	if rec := father.get("/fascicolo?p=" + pid); rec.Code == http.StatusOK {
		t.Error("father still sees the son's dossier after revocation")
	}
	if rec := son.post("/fascicolo/"+pid+"/scollega", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("unlink: %d", rec.Code)
	}
	if rec := son.get("/fascicolo"); rec.Header().Get("Location") != "/attiva" {
		t.Errorf("after unlinking the only dossier /fascicolo goes to %q, want /attiva", rec.Header().Get("Location"))
	}
	if _, err := a.db.Patient(ctx, p.ID); err != nil {
		t.Errorf("unlinking touched the registry: %v", err)
	}
}

// TestLockedAccountCannotLockAFiscalCode: an account already locked out of
// activation cannot go on counting failures against a codice fiscale and
// so lock its real owner out.
func TestLockedAccountCannotLockAFiscalCode(t *testing.T) {
	a := newApp(t)
	_, code := a.deskClient().accept(a.acceptForm())
	attacker := a.register("Eva", "Neri", "347 111 2222", "")
	otherCF, _ := codicefiscale.Generate("Neri", "Eva", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), "F", "F205")
	for range 5 { // lock the attacker's account with its own mistakes
		attacker.activate(otherCF, "ABCD-EFGH-JKMN")
	}
	for range 10 { // then keep hammering the victim's codice fiscale
		if rec := attacker.activate(rossiCF, "ABCD-EFGH-JKMN"); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("locked account: %d, want 429", rec.Code)
		}
	}
	victim := a.register("Mario", "Rossi", "333 1234567", "")
	if rec := victim.activate(rossiCF, code); rec.Code != http.StatusSeeOther {
		t.Errorf("the owner's activation after the attack: %d, want 303", rec.Code)
	}
}

// failingMail is a mail server that refuses everything.
type failingMail struct{}

func (failingMail) Send(context.Context, notify.Message) error { return errors.New("mail server down") }

// TestEmailConfirmationLimitsAndNotices: confirmation emails are capped per
// account, say which account asked, leave nothing pending when sending
// fails, and asking for a new address tells the holder.
func TestEmailConfirmationLimitsAndNotices(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "")
	change := func(email string) int {
		return c.post("/profilo/recapiti", url.Values{"new_mobile": {"333 1234567"}, "new_email": {email},
			"contact_password": {patientPassword}}).Code
	}
	for i := range 5 {
		if code := change("indirizzo" + itoa(int64(i)) + "@example.it"); code != http.StatusSeeOther {
			t.Fatalf("confirmation %d: %d", i, code)
		}
	}
	if code := change("ancora@example.it"); code != http.StatusTooManyRequests {
		t.Errorf("6th confirmation email in a day: %d, want 429", code)
	}
	a.smsMu.Lock()
	last := a.mails[len(a.mails)-1]
	a.smsMu.Unlock()
	if !strings.Contains(last.Body, "4567") || strings.Contains(last.Body, "3331234567") {
		t.Errorf("the confirmation email should name the account by its masked mobile: %q", last.Body)
	}
	a.confirmEmail("indirizzo4@example.it")
	var notices int
	a.raw.QueryRow(`SELECT count(*) FROM outbox WHERE kind = 'security' AND channel = 'sms' AND body LIKE '%nuovo indirizzo email%'`).Scan(&notices)
	if notices != 5 {
		t.Errorf("holder told of each requested address change: %d SMS, want 5", notices)
	}

	a.advance(25 * time.Hour)
	a.h.Email = failingMail{}
	if code := change("nuovo@example.it"); code != http.StatusServiceUnavailable {
		t.Errorf("confirmation with the mail server down: %d, want 503", code)
	}
	if pending, _ := a.db.PendingEmail(context.Background(), 1, a.Now()); pending != "" {
		t.Errorf("an address is pending although no email went out: %q", pending)
	}
}

// TestNoMailServer: without a mail server the email is not asked (it could
// never be confirmed) and a mobile change still works.
func TestNoMailServer(t *testing.T) {
	a := newApp(t)
	a.h.Email = nil
	if n := parseHTML(t, func() string {
		c := a.client()
		c.post("/registrati", url.Values{"consent": {"1"}})
		return c.get("/registrati/profilo").Body.String()
	}()).Find(`input[name=email]`).Length(); n != 0 {
		t.Error("registration asks for an email that could never be confirmed")
	}
	c := a.register("Mario", "Rossi", "333 1234567", "")
	rec := c.post("/profilo/recapiti", url.Values{"new_mobile": {"347 555 1234"}, "new_email": {"mario@example.it"},
		"contact_password": {patientPassword}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/profilo/recapiti/codice" {
		t.Fatalf("mobile change without a mail server: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

// TestDeskSeesOnlineAccess: the desk's patient page says whether the
// dossier is active online, so the receptionist can answer "why can't I
// see my report?".
func TestDeskSeesOnlineAccess(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	_, code := desk.accept(a.acceptForm())
	p, _ := a.db.PatientByFiscalCode(context.Background(), rossiCF)
	page := func() string { return desk.get("/desk/patients/" + itoa(p.ID)).Body.String() }
	if !strings.Contains(page(), "non ancora attivato online") {
		t.Error("before activation the desk does not see that the dossier is not active")
	}
	c := a.register("Mario", "Rossi", "333 1234567", "")
	c.activate(rossiCF, code)
	if !strings.Contains(page(), "fascicolo attivo su 1 account") {
		t.Error("after activation the desk does not see the active dossier")
	}
}

// TestResetSaysNothingAboutAccounts: the reset step answers a wrong code
// the same way for a registered and an unregistered number, even with a
// password made of the holder's own number; and past the send limit a
// known email answers like an unknown one.
func TestResetSaysNothingAboutAccounts(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "mario@example.it")
	answer := func(identifier string) (int, string) {
		c := a.client()
		c.post("/password-dimenticata", url.Values{"identifier": {identifier}})
		rec := c.post("/password-dimenticata/codice", url.Values{"code": {"000000"}, "password": {"3331234567!! rossi mario"},
			"password2": {"3331234567!! rossi mario"}})
		doc := parseHTML(t, rec.Body.String())
		return rec.Code, doc.Find(".flash.error").Text() + doc.Find(".field-error").Text()
	}
	knownCode, knownMsg := answer("3331234567")
	unknownCode, unknownMsg := answer("3470001111")
	if knownCode != unknownCode || knownMsg != unknownMsg {
		t.Errorf("registered: %d %q; unregistered: %d %q; want the same", knownCode, knownMsg, unknownCode, unknownMsg)
	}
	for range 10 {
		a.client().post("/password-dimenticata", url.Values{"identifier": {"3331234567"}})
		a.advance(16 * time.Minute)
	}
	for _, id := range []string{"mario@example.it", "nessuno@example.it"} {
		if rec := a.client().post("/password-dimenticata", url.Values{"identifier": {id}}); rec.Code != http.StatusSeeOther {
			t.Errorf("reset for %s past the limit: %d, want the usual 303", id, rec.Code)
		}
	}
}

// TestThirdReviewLooseEnds: a parent is not offered a deletion it would be
// refused; a patient with two accounts of their own decides from either;
// without a mail server email notices are not offered; an empty email
// withdraws a pending one.
func TestThirdReviewLooseEnds(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	visitID, code, _ := a.publishedVisit()
	first := a.register("Mario", "Rossi", "333 1234567", "")
	first.activate(rossiCF, code)
	// The patient changes phone: the desk records it, a second own account activates.
	form := a.acceptForm()
	form.Set("mobile", "347 555 1234")
	_, code2 := a.deskClient().accept(form)
	second := a.register("Mario", "Rossi", "347 555 1234", "")
	if rec := second.activate(rossiCF, code2); rec.Code != http.StatusSeeOther {
		t.Fatalf("second own account: %d", rec.Code)
	}
	docs, _ := a.db.VisitDocuments(ctx, visitID)
	if rec := second.post("/fascicolo/referti/"+itoa(docs[0].ID)+"/elimina", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("the patient deleting from a second own account: %d, want 303", rec.Code)
	}

	c := a.register("Anna", "Verdi", "347 777 8888", "")
	c.post("/profilo/recapiti", url.Values{"new_mobile": {"347 777 8888"}, "new_email": {"anna@exmaple.it"}, "contact_password": {patientPassword}})
	if rec := c.post("/profilo/recapiti", url.Values{"new_mobile": {"347 777 8888"}, "new_email": {""}, "contact_password": {patientPassword}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("withdraw pending: %d", rec.Code)
	}
	if pending, _ := a.db.PendingEmail(ctx, 3, a.Now()); pending != "" {
		t.Errorf("the mistyped address is still pending: %q", pending)
	}
	a.h.Email = nil
	if n := parseHTML(t, c.get("/profilo").Body.String()).Find(`input[name=notify][value=email]`).Length(); n != 0 {
		t.Error("email notices offered without a mail server")
	}
}

// TestDeskHomeListsRecentAcceptances: the desk's home page shows the latest
// acceptances, newest first, with the patient's name and a link to the visit.
func TestDeskHomeListsRecentAcceptances(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	first, _ := desk.accept(a.acceptForm())
	other := a.acceptForm()
	other.Set("fiscal_code", "BNCGPP49B21F205H")
	other.Set("first_name", "Giuseppe")
	other.Set("last_name", "Bianchi")
	other.Set("birth_date", "1949-02-21")
	other.Set("birth_place", "Milano")
	second, _ := desk.accept(other)
	rows := parseHTML(t, desk.get("/desk").Body.String()).Find("tbody tr")
	if rows.Length() != 2 {
		t.Fatalf("recent acceptances listed: %d, want 2", rows.Length())
	}
	for i, want := range []struct {
		id   int64
		name string
	}{{second, "Bianchi Giuseppe"}, {first, "Rossi Mario"}} {
		row := rows.Eq(i)
		if href, _ := row.Find("a").Attr("href"); href != "/desk/visits/"+itoa(want.id) || !strings.Contains(row.Text(), want.name) {
			t.Errorf("row %d = %q (link %q), want %s linking visit %d", i, row.Text(), href, want.name, want.id)
		}
	}
}
