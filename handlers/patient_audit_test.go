package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fse/db"
)

// Tests that what a patient is refused, and an account's deletion, reach
// the audit log with who and from where, where admins look for them.

// auditPage returns the text of the admin's audit page for query.
func auditPage(t *testing.T, a *app, query string) string {
	t.Helper()
	rec := a.adminClient().get("/desk/admin/audit?" + query)
	if rec.Code != http.StatusOK {
		t.Fatalf("audit page: %d", rec.Code)
	}
	return parseHTML(t, rec.Body.String()).Find("table").Text()
}

// TestAnotherPatientsReportIsAuditedAsDenied: asking for a report that is
// not in one's dossiers is a 404 like any other, and a denied event for
// admins, never in the owner's access history.
func TestAnotherPatientsReportIsAuditedAsDenied(t *testing.T) {
	a := newApp(t)
	visit, code, _ := a.publishedVisit()
	doc := lastDocument(t, a, visit)
	rossi := a.register("Mario", "Rossi", pdRossiTyped, "")
	pdActivate(t, rossi, rossiCF, code)
	bianchi := a.register("Laura", "Bianchi", pdBianchiTyped, "")
	bianchi.ip = "198.51.100.23"
	bianchiID := accountIDOf(t, a, pdBianchiE164)

	for _, p := range []string{fmt.Sprintf("/fascicolo/referti/%d", doc), fmt.Sprintf("/fascicolo/referti/%d/apri", doc)} {
		paWantStatus(t, "GET "+p, bianchi.get(p), http.StatusNotFound)
	}
	ev := a.auditActions(db.AuditFilter{Outcome: db.OutcomeDenied, ObjectType: "document", ObjectID: doc})
	if len(ev) != 2 || ev[0].Action != db.ActionReportDownload || ev[1].Action != db.ActionReportViewOnline {
		t.Fatalf("denied events = %+v, want a download and an online view", ev)
	}
	for _, e := range ev {
		if e.Actor.Kind != db.ActorPatient || e.Actor.ID != bianchiID || e.Actor.IP != bianchi.ip {
			t.Errorf("denied event by %+v, want Bianchi's account from %s", e.Actor, bianchi.ip)
		}
	}
	if page := auditPage(t, a, "outcome=denied"); !strings.Contains(page, db.ActionReportDownload) || !strings.Contains(page, bianchi.ip) {
		t.Errorf("the admin's audit page (denied) lacks the attempt:\n%s", page)
	}
	history, err := a.db.PatientAccessLog(context.Background(), []int64{patientByCF(t, a, rossiCF).ID}, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range history {
		if e.Actor.Kind == db.ActorPatient && e.Actor.ID == bianchiID {
			t.Errorf("the owner's access history shows the refused attempt: %+v", e)
		}
	}
}

// TestRefusedSMSCodesAreAudited: a wrong or expired code typed for a
// registration, a password reset or a new mobile is a failed event with
// the address and the reason, never the code.
func TestRefusedSMSCodesAreAudited(t *testing.T) {
	a := newApp(t)
	rossi := a.register("Mario", "Rossi", "333 1234567", "")
	rossiID := accountIDOf(t, a, rossiMobile)

	reg := a.client()
	reg.ip = "198.51.100.31"
	paStartRegistration(t, reg, paMobile2Typed, "")
	regCode := a.lastSMSCode(paMobile2)
	paWantStatus(t, "wrong registration code", reg.post("/registrati/codice", url.Values{"code": {paWrong(regCode)}}), http.StatusUnprocessableEntity)

	reset := a.client()
	reset.ip = "198.51.100.32"
	paWantRedirect(t, "reset", reset.post("/password-dimenticata", url.Values{"identifier": {"333 1234567"}}), "/password-dimenticata/codice")
	resetCode := a.lastSMSCode(rossiMobile)
	a.advance(16 * time.Minute) // the reset code has expired
	paWantStatus(t, "expired reset code", reset.post("/password-dimenticata/codice",
		url.Values{"code": {resetCode}, "password": {paNewPassword}, "password2": {paNewPassword}}), http.StatusUnprocessableEntity)

	rossi.ip = "198.51.100.33"
	paWantRedirect(t, "contact change", rossi.post("/profilo/recapiti",
		url.Values{"new_mobile": {paMobile3Typed}, "contact_password": {patientPassword}}), "/profilo/recapiti/codice")
	contactCode := a.lastSMSCode(paMobile3)
	paWantStatus(t, "wrong contact code", rossi.post("/profilo/recapiti/codice", url.Values{"code": {paWrong(contactCode)}}),
		http.StatusUnprocessableEntity)

	for _, tt := range []struct {
		action, ip, detail string
		account            int64
	}{
		{db.ActionAccountRegisterCode, reg.ip, "wrong code", 0},
		{db.ActionAccountResetCode, reset.ip, "code expired", rossiID},
		{db.ActionAccountContactCode, rossi.ip, "wrong code", rossiID},
	} {
		ev := withAction(a.auditActions(db.AuditFilter{Action: tt.action}), tt.action)
		if len(ev) != 1 {
			t.Errorf("%s: %d events, want 1", tt.action, len(ev))
			continue
		}
		e := ev[0]
		if e.Outcome != db.OutcomeFailed || e.Actor.IP != tt.ip || e.Detail != tt.detail || e.Actor.ID != tt.account {
			t.Errorf("%s = %+v, want failed, from %s, %q, account %d", tt.action, e, tt.ip, tt.detail, tt.account)
		}
	}
	page := auditPage(t, a, "outcome=failed")
	for _, want := range []string{db.ActionAccountRegisterCode, db.ActionAccountResetCode, db.ActionAccountContactCode} {
		if !strings.Contains(page, want) {
			t.Errorf("the admin's audit page (failed) lacks %s", want)
		}
	}
	for _, code := range []string{regCode, paWrong(regCode), resetCode, contactCode, paWrong(contactCode)} {
		if n := authCount(t, a, `SELECT count(*) FROM audit_events WHERE instr(detail, ?) > 0`, code); n != 0 {
			t.Errorf("a code reached the audit log")
		}
	}
}
