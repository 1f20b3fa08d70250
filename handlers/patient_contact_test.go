package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fse/internal/sealbox"
)

// Tests of changing the account's mobile and email.

// TestPatientContactChange: a new mobile is verified by a code sent to it;
// the old number is told.
func TestPatientContactChange(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "")
	if rec := c.post("/profilo/recapiti", url.Values{"new_mobile": {"347 555 1234"}, "contact_password": {"sbagliata"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("contact change with a wrong password: %d, want 422", rec.Code)
	}
	rec := c.post("/profilo/recapiti", url.Values{"new_mobile": {"347 555 1234"}, "new_email": {"mario@example.it"},
		"contact_password": {patientPassword}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/profilo/recapiti/codice" {
		t.Fatalf("change contact: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	acct, _ := a.db.AccountByMobile(context.Background(), rossiMobile)
	if acct.ID == 0 {
		t.Fatal("the mobile changed before the code was entered")
	}
	if rec := c.post("/profilo/recapiti/codice", url.Values{"code": {"000000"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code: %d", rec.Code)
	}
	if rec := c.post("/profilo/recapiti/codice", url.Values{"code": {a.lastSMSCode("+393475551234")}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("right code: %d", rec.Code)
	}
	got, err := a.db.Account(context.Background(), acct.ID)
	if err != nil || got.Mobile != "+393475551234" || got.Email != "" {
		t.Fatalf("account after change = %+v, %v; want the new mobile, the email waiting for confirmation", got, err)
	}
	a.confirmEmail("mario@example.it")
	if got, _ := a.db.Account(context.Background(), acct.ID); got.Email != "mario@example.it" {
		t.Errorf("email after confirmation = %q", got.Email)
	}
	var notices int
	a.raw.QueryRow(`SELECT count(*) FROM outbox WHERE kind = 'security' AND recipient = ?`, rossiMobile).Scan(&notices)
	if notices != 2 { // one for the email asked, one for the mobile changed
		t.Errorf("security notices to the old number = %d, want 2", notices)
	}
	if _, err := a.db.AccountByMobile(context.Background(), rossiMobile); err == nil {
		t.Error("the old mobile still finds the account")
	}
}

// TestSecondOwnAccountDeletesAndEmptyEmailWithdrawsPending: a patient with
// two accounts of their own decides from either (here, deletes a report
// from the second); an empty email withdraws a pending one; without a mail
// server email notices are not offered.
func TestSecondOwnAccountDeletesAndEmptyEmailWithdrawsPending(t *testing.T) {
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

// TestContactChangeToATakenMobileLooksLikeAFreeOne: asking for a mobile
// another account has answers exactly as for a free one (the code page),
// so the form does not tell who is registered; no code goes to that
// number, its holder is told, and no code, not even a right one, moves
// the number.
func TestContactChangeToATakenMobileLooksLikeAFreeOne(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	a.register("Laura", "Bianchi", paMobile2Typed, "")
	rossi := a.register("Mario", "Rossi", "333 1234567", "")
	verdi := a.register("Anna", "Verdi", "347 777 8888", "")

	taken := rossi.post("/profilo/recapiti", url.Values{"new_mobile": {paMobile2Typed}, "contact_password": {patientPassword}})
	free := verdi.post("/profilo/recapiti", url.Values{"new_mobile": {paMobile3Typed}, "contact_password": {patientPassword}})
	paWantRedirect(t, "a taken mobile", taken, "/profilo/recapiti/codice")
	paWantRedirect(t, "a free mobile", free, "/profilo/recapiti/codice")
	takenPage, freePage := rossi.get("/profilo/recapiti/codice"), verdi.get("/profilo/recapiti/codice")
	if takenPage.Code != freePage.Code || paSnippet(takenPage) == "" ||
		parseHTML(t, takenPage.Body.String()).Find("form").Length() != parseHTML(t, freePage.Body.String()).Find("form").Length() {
		t.Errorf("code pages differ: %d and %d", takenPage.Code, freePage.Code)
	}
	if got := len(a.smsTo(paMobile3)); got != 1 {
		t.Errorf("SMS to the free mobile = %d, want its code", got)
	}
	if got := len(a.smsTo(paMobile2)); got != 1 {
		t.Errorf("SMS to the taken mobile = %d, want only its own registration code", got)
	}
	notices := paSecurityBodies(t, a, paMobile2)
	if len(notices) != 1 || !strings.Contains(notices[0], "qualcuno ha chiesto di usare il suo numero") || paSixDigits.MatchString(notices[0]) {
		t.Errorf("notices to the taken number's holder = %q, want one, without a code", notices)
	}

	// Even the right code (planted here: it was never sent) moves nothing,
	// and the answer is the one for a wrong code.
	if _, err := a.raw.ExecContext(ctx, `UPDATE otp_codes SET code_mac = ? WHERE id = (SELECT max(id) FROM otp_codes WHERE mobile = ?)`,
		a.keys.MAC(sealbox.SMSCode, "123456"), paMobile2); err != nil {
		t.Fatal(err)
	}
	rec := rossi.post("/profilo/recapiti/codice", url.Values{"code": {"123456"}})
	paWantStatus(t, "the right code for a taken mobile", rec, http.StatusUnprocessableEntity)
	if got := paAlert(t, rec); !strings.Contains(got, "non è corretto") {
		t.Errorf("answer %q, want the wrong-code message", got)
	}
	if acct := paAccount(t, a, paMobile2); acct.FirstName != "Laura" {
		t.Errorf("the taken mobile now belongs to %s", acct.FirstName)
	}
	if acct := paAccount(t, a, rossiMobile); acct.FirstName != "Mario" {
		t.Errorf("Rossi's mobile changed: %+v", acct)
	}
	// A resend sends nothing to the taken number either.
	paWantStatus(t, "resend to a taken mobile", rossi.post("/profilo/recapiti/codice", url.Values{"resend": {"1"}}), http.StatusOK)
	if got := len(a.smsTo(paMobile2)); got != 1 {
		t.Errorf("SMS to the taken mobile after a resend = %d, want 1", got)
	}
}
