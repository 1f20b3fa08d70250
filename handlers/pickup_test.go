package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fse/db"
)

// Tests of the pickup proof: the desk sees, per report, whether and how the
// patient collected it, records a pickup on paper, and lists the reports
// nobody collected.

// pickupText is the pickup cell of a report on a desk page.
func pickupText(t testing.TB, c *client, path string, docID int64) string {
	t.Helper()
	rec := c.get(path)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	cell := doc.Find(fmt.Sprintf(`tr[data-document="%d"] [data-testid=pickup]`, docID))
	if cell.Length() == 0 {
		t.Fatalf("%s has no pickup cell for report %d", path, docID)
	}
	return strings.Join(strings.Fields(cell.Find(".tag").Text()), " ")
}

func TestPickupProofAtTheDesk(t *testing.T) {
	tests := []struct {
		name string
		// act collects (or not) the report; want is the pickup cell.
		act  func(t *testing.T, f *rfFamily, doc int64)
		want string
	}{
		{"never collected", func(*testing.T, *rfFamily, int64) {}, "non ancora scaricato"},
		{"downloaded by the patient: when and by which account", func(t *testing.T, f *rfFamily, doc int64) {
			f.a.setNow(time.Date(2026, 3, 11, 17, 45, 0, 0, time.UTC))
			fcDownload(f.giulia, doc)
			f.a.advance(time.Hour)
			fcDownload(f.mario, doc) // a later download changes nothing
		}, "scaricato online il 11/03/2026 18:45 (account n. {giulia}, Giulia Verdi)"},
		{"opened online by a relative's account", func(t *testing.T, f *rfFamily, doc int64) {
			f.a.setNow(time.Date(2026, 3, 12, 8, 0, 0, 0, time.UTC))
			f.mario.get(fmt.Sprintf("/fascicolo/referti/%d/apri", doc))
		}, "scaricato online il 12/03/2026 09:00 (account n. {mario}, Mario Rossi)"},
		{"picked up on paper at the desk, recorded once", func(t *testing.T, f *rfFamily, doc int64) {
			f.a.setNow(time.Date(2026, 3, 13, 10, 5, 0, 0, time.UTC))
			for range 2 {
				rec := f.desk.post(fmt.Sprintf("/desk/documents/%d/pickup", doc), url.Values{"back": {fmt.Sprintf("/desk/patients/%d", f.patient)}})
				if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != fmt.Sprintf("/desk/patients/%d", f.patient) {
					t.Fatalf("record pickup: %d to %q", rec.Code, rec.Header().Get("Location"))
				}
				f.a.advance(time.Hour)
			}
			if n := len(repAudit(f.a, db.ActionReportPaperPickup)); n != 1 {
				t.Errorf("paper pickup audited %d times, want 1", n)
			}
		}, "ritirato su carta il 13/03/2026 11:05 (" + receptionUser + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rfSetup(t, newRightsApp(t, db.ProtectedPaper, nil))
			doc, _ := publishReport(t, f.desk, f.ownVisit, "Ecografia")
			tt.act(t, f, doc)
			want := strings.NewReplacer("{giulia}", itoa(f.giuliaID), "{mario}", itoa(f.marioID)).Replace(tt.want)
			for _, path := range []string{fmt.Sprintf("/desk/visits/%d", f.ownVisit), fmt.Sprintf("/desk/patients/%d", f.patient)} {
				if got := pickupText(t, f.desk, path, doc); got != want {
					t.Errorf("%s: pickup %q, want %q", path, got, want)
				}
			}
		})
	}
	t.Run("a made-up report is a 404", func(t *testing.T) {
		a := newApp(t)
		if rec := a.deskClient().post(fmt.Sprintf("/desk/documents/%d/pickup", fcMadeUpID), nil); rec.Code != http.StatusNotFound {
			t.Errorf("pickup of a made-up report: %d", rec.Code)
		}
	})
}

func TestUncollectedReportsList(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	desk := a.deskClient()
	other, err := a.db.CreateFacility(ctx, db.Facility{Code: "CR", Name: "Poliambulatorio Cremona"}, db.Actor{Kind: db.ActorCLI}, a.Now())
	if err != nil {
		t.Fatal(err)
	}
	start := a.Now()
	publishAt := func(daysAgo int, facility int64, title string) int64 {
		t.Helper()
		a.setNow(start.AddDate(0, 0, -daysAgo))
		form := a.acceptForm()
		form.Set("facility", fmt.Sprint(facility))
		visit, _ := desk.accept(form)
		id, _ := publishReport(t, desk, visit, title)
		return id
	}
	old := publishAt(10, a.facilityID, "Vecchio")
	recent := publishAt(3, a.facilityID, "Recente")
	paper := publishAt(12, a.facilityID, "Ritirato su carta")
	downloaded := publishAt(9, a.facilityID, "Scaricato")
	elsewhere := publishAt(11, other, "Altra struttura")
	expired := publishAt(70, a.facilityID, "Scaduto")
	a.setNow(start)
	desk.post(fmt.Sprintf("/desk/documents/%d/pickup", paper), nil)
	rossi := a.register("Mario", "Rossi", "333 123 4567", "")
	recentDoc, err := a.db.Document(ctx, recent)
	if err != nil {
		t.Fatal(err)
	}
	code := reprintCode(t, desk, recentDoc.VisitID)
	if rec := rossi.activate(rossiCF, code); rec.Code != http.StatusSeeOther {
		t.Fatalf("activate: %d", rec.Code)
	}
	fcDownload(rossi, downloaded)

	tests := []struct {
		name  string
		query string
		want  []int64
	}{
		{"the default: a week, the first facility by name", "", []int64{elsewhere}},
		{"not downloaded within 2 days", fmt.Sprintf("?facility=%d&days=2", a.facilityID), []int64{old, recent}},
		{"not downloaded within 10 days", fmt.Sprintf("?facility=%d&days=10", a.facilityID), []int64{old}},
		{"another facility", fmt.Sprintf("?facility=%d&days=7", other), []int64{elsewhere}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(repAudit(a, db.ActionUncollectedList))
			rec := desk.get("/desk/uncollected" + tt.query)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			var got []int64
			parseHTML(t, rec.Body.String()).Find(`[data-testid=uncollected] tr[data-document]`).Each(func(_ int, s *goquery.Selection) {
				var id int64
				fmt.Sscan(s.AttrOr("data-document", ""), &id)
				got = append(got, id)
			})
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("listed %v, want %v (old %d, recent %d, paper %d, downloaded %d, elsewhere %d, expired %d)",
					got, tt.want, old, recent, paper, downloaded, elsewhere, expired)
			}
			if n := len(repAudit(a, db.ActionUncollectedList)); n != before+1 {
				t.Errorf("reading the list audited %d times, want once", n-before)
			}
		})
	}
}

// reprintCode reprints the slip of a visit and returns its new code.
func reprintCode(t testing.TB, desk *client, visitID int64) string {
	t.Helper()
	rec := desk.post(fmt.Sprintf("/desk/visits/%d/reprint", visitID), nil)
	if rec.Code == http.StatusSeeOther {
		rec = desk.follow(rec)
	}
	code := strings.TrimSpace(parseHTML(t, rec.Body.String()).Find("[data-testid=activation-code]").Text())
	if code == "" {
		t.Fatalf("reprint of visit %d shows no code (status %d)", visitID, rec.Code)
	}
	return code
}
