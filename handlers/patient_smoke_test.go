package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"fse/db"
)

// TestPatientLoop is the patient's whole path through the handlers:
// register, activate with the slip's code, be notified, download.
func TestPatientLoop(t *testing.T) {
	a := newApp(t)
	visitID, code, pdf := a.publishedVisit()
	c := a.register("Mario", "Rossi", "333 1234567", "mario@example.it")
	rec := c.activate("rssmra85t10a562s", strings.ToLower(strings.ReplaceAll(code, "-", " ")))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/fascicolo" {
		t.Fatalf("activate: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	page := parseHTML(t, c.get("/fascicolo").Body.String())
	link, ok := page.Find(`a[download]`).Attr("href")
	if !ok {
		t.Fatal("dossier lists no report")
	}
	rec = c.get(link)
	got, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK || string(got) != string(pdf) {
		t.Fatalf("download: status %d, %d bytes, want the %d uploaded", rec.Code, len(got), len(pdf))
	}
	// A second report published now is announced to the account.
	desk := a.deskClient()
	desk.upload(visitID, file{"Secondo referto", "y.pdf", samplePDF(t, "Secondo")})
	desk.post("/desk/visits/"+itoa(visitID)+"/publish", nil)
	msgs, err := a.db.RecentOutbox(context.Background(), false, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Channel != db.ChannelSMS || msgs[0].Recipient != rossiMobile {
		t.Fatalf("outbox = %+v, %v; want one SMS to Rossi", msgs, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPatientAccessLog: the patient sees who accessed their dossier and
// when, including events about a report that has since been withdrawn.
func TestPatientAccessLog(t *testing.T) {
	a := newApp(t)
	visitID, code, _ := a.publishedVisit()
	c := a.register("Mario", "Rossi", "333 1234567", "")
	c.activate(rossiCF, code)
	docs, _ := a.db.VisitDocuments(context.Background(), visitID)
	c.get("/fascicolo/referti/" + itoa(docs[0].ID))
	desk := a.deskClient()
	desk.get("/desk/documents/" + itoa(docs[0].ID) + "/file")
	desk.post("/desk/documents/"+itoa(docs[0].ID)+"/withdraw", nil)

	// Someone else's activity must not show up.
	other := a.deskClient()
	form := a.acceptForm()
	form.Set("fiscal_code", "BNCGPP49B21F205H")
	form.Set("first_name", "Giuseppe")
	form.Set("last_name", "Bianchi")
	form.Set("birth_date", "1949-02-21")
	form.Set("birth_place", "Milano")
	form.Set("mobile", "347 987 6543")
	other.accept(form)

	rec := c.get("/fascicolo/accessi")
	if rec.Code != http.StatusOK {
		t.Fatalf("access log: %d", rec.Code)
	}
	body := parseHTML(t, rec.Body.String()).Find("tbody").Text()
	for _, want := range []string{"Scaricamento di un referto", "Tu", "Consultazione di un referto da parte del personale",
		"Personale della struttura (sportello)", "Ritiro di un referto", "Pubblicazione di un referto online", "Attivazione del fascicolo"} {
		if !strings.Contains(body, want) {
			t.Errorf("access log lacks %q", want)
		}
	}
	if n := strings.Count(body, "Accettazione della prestazione"); n != 1 {
		t.Errorf("access log shows %d acceptances, want Rossi's 1 (not Bianchi's)", n)
	}
	if rec := a.client().get("/fascicolo/accessi"); rec.Code != http.StatusSeeOther {
		t.Errorf("anonymous access log: %d, want 303", rec.Code)
	}
}

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
