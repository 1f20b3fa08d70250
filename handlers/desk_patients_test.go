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
	"fse/internal/codicefiscale"
)

// Tests of the desk's home, patient search and patient page, and the
// auditing of what the desk reads.

// accVerdiForm is a second, unrelated patient: Anna Verdi, born in Milan.
func accVerdiForm(t *testing.T, a *app) url.Values {
	t.Helper()
	cf, err := codicefiscale.Generate("Verdi", "Anna", time.Date(1990, 4, 5, 0, 0, 0, 0, time.UTC), "F", "F205")
	if err != nil {
		t.Fatal(err)
	}
	return accWith(a.acceptForm(), "fiscal_code", cf, "first_name", "Anna", "last_name", "Verdi", "birth_date", "1990-04-05",
		"birth_place", "Milano", "sex", "F", "mobile", "347 765 4321", "email", "")
}

func TestDeskSearch(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	c.accept(a.acceptForm())
	c.accept(accVerdiForm(t, a))
	rossi := patientByCF(t, a, rossiCF)
	verdiCF := accVerdiForm(t, a).Get("fiscal_code")
	verdi := patientByCF(t, a, verdiCF)
	rossiLink := fmt.Sprintf(`a[href="/desk/patients/%d"]`, rossi.ID)
	verdiLink := fmt.Sprintf(`a[href="/desk/patients/%d"]`, verdi.ID)

	tests := []struct {
		q        string
		rossi    bool
		verdi    bool
		notFound bool
	}{
		{q: rossiCF[:8], rossi: true},
		{q: "rssmra", rossi: true},
		{q: rossiCF, rossi: true},
		{q: "Rossi", rossi: true},
		{q: "rossi mario", rossi: true},
		{q: "Mario Rossi", rossi: true},
		{q: "3331234567", rossi: true},
		{q: "333 123 4567", rossi: true},
		{q: "+39 333 1234567", rossi: true},
		{q: "Verdi", verdi: true},
		{q: "347 765 4321", verdi: true},
		{q: "Bianchi", notFound: true},
		{q: "rossi anna", notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			rec := c.get("/desk?" + url.Values{"q": {tt.q}}.Encode())
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			doc := parseHTML(t, rec.Body.String())
			if got := doc.Find(rossiLink).Length() > 0; got != tt.rossi {
				t.Errorf("q=%q lists Rossi: got %v, want %v", tt.q, got, tt.rossi)
			}
			if got := doc.Find(verdiLink).Length() > 0; got != tt.verdi {
				t.Errorf("q=%q lists Verdi: got %v, want %v", tt.q, got, tt.verdi)
			}
			if got := strings.Contains(doc.Text(), "Nessun paziente trovato"); got != tt.notFound {
				t.Errorf("q=%q shows \"Nessun paziente trovato\": got %v, want %v", tt.q, got, tt.notFound)
			}
			if got := doc.Find("input#q").AttrOr("value", ""); got != tt.q {
				t.Errorf("search box keeps the query: got %q, want %q", got, tt.q)
			}
		})
	}
}

func TestDeskPatientPage(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	v1, _ := c.accept(a.acceptForm())
	a.advance(24 * time.Hour)
	v2, _ := c.accept(accWith(a.acceptForm(), "exams", "Ecografia addome"))
	p := patientByCF(t, a, rossiCF)

	rec := c.get(fmt.Sprintf("/desk/patients/%d", p.ID))
	if rec.Code != http.StatusOK {
		t.Fatalf("patient page: status %d", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	text := doc.Find("main").Text()
	for _, want := range []string{"Rossi Mario", rossiCF, "MN-2026-00001", "MN-2026-00002", "Ecografia addome", "Emocromo"} {
		if !strings.Contains(text, want) {
			t.Errorf("patient page does not mention %q", want)
		}
	}
	for _, id := range []int64{v1, v2} {
		if doc.Find(fmt.Sprintf(`a[href="/desk/visits/%d"]`, id)).Length() == 0 {
			t.Errorf("patient page has no link to visit %d", id)
		}
	}

	for _, path := range []string{"/desk/patients/9999", "/desk/patients/abc", "/desk/patients/0"} {
		if rec := c.get(path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, rec.Code)
		}
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

// TestDeskSearchRefusesQueriesPastItsBounds: a search too long or with
// too many words is a 422 with an Italian message, not a 500 from SQLite
// ("LIKE or GLOB pattern too complex", "Expression tree is too large").
func TestDeskSearchRefusesQueriesPastItsBounds(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	desk.accept(a.acceptForm())
	for _, tt := range []struct {
		name, q, want string
	}{
		{"60,000 characters", strings.Repeat("R", 60000), "troppo lunga"},
		{"101 characters", strings.Repeat("r", db.MaxSearchLen+1), "troppo lunga"},
		{"20,000 words", strings.TrimSpace(strings.Repeat("a ", 20000)), "troppo lunga"},
		{"7 words", "a b c d e f g", "troppe parole"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := desk.get("/desk?q=" + url.QueryEscape(tt.q))
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status: got %d, want 422", rec.Code)
			}
			if got := flashError(t, rec.Body.String()); !strings.Contains(got, tt.want) {
				t.Errorf("message %q, want %q", got, tt.want)
			}
		})
	}
	// At the bounds the search works.
	for _, q := range []string{strings.Repeat("r", db.MaxSearchLen), "Mario Rossi a b c d"} {
		if rec := desk.get("/desk?q=" + url.QueryEscape(q)); rec.Code != http.StatusOK {
			t.Errorf("q=%.20q: got %d, want 200", q, rec.Code)
		}
	}
	if strings.Contains(a.logs.String(), "request failed") {
		t.Errorf("a search was logged as a server error:\n%s", a.logs.String())
	}
}
