package handlers_test

import (
	"context"
	"io"
	"net/http"
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
