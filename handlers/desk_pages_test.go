package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// The desk patient page once showed "Accesso online: @onlineStatus(v.Visit,
// p.Now)" as text: each visit must show its rendered online status.
func TestDeskPatientPageShowsEachVisitsOnlineStatus(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	c.accept(a.acceptForm())
	a.advance(time.Hour)
	declined := a.acceptForm()
	declined.Set("online_declined", "1")
	c.postAccept(declined)

	rec := c.get("/desk/patients/1")
	if rec.Code != http.StatusOK {
		t.Fatalf("patient page: %d", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	var statuses []string
	doc.Find("section.card p").Each(func(_ int, p *goquery.Selection) {
		if text := strings.Join(strings.Fields(p.Text()), " "); strings.HasPrefix(text, "Accesso online:") {
			statuses = append(statuses, text)
		}
	})
	want := []string{"Accesso online: consegna online rifiutata: referto su carta",
		"Accesso online: codice di attivazione valido fino al 08/06/2026"}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("online status lines = %q, want %q", statuses, want)
	}
}
