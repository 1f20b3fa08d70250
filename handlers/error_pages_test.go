package handlers_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fse/views"
)

// assertPatientErrorPage checks a patient's error page: the header with
// its help link, a way home, the help page, no internals.
func assertPatientErrorPage(t *testing.T, what string, rec *httptest.ResponseRecorder, status int, home string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("%s: status %d, want %d", what, rec.Code, status)
	}
	doc := parseHTML(t, rec.Body.String())
	if doc.Find(`header.top a.brand[href="/"]`).Length() != 1 || doc.Find(`header.top a[href="`+views.HelpPath+`"]`).Length() == 0 {
		t.Errorf("%s: no patient header with the help link", what)
	}
	if doc.Find(`main a.button[href="`+home+`"]`).Length() != 1 {
		t.Errorf("%s: no way home to %s", what, home)
	}
	if doc.Find(`main a[href="`+views.HelpPath+`"]`).Length() != 1 {
		t.Errorf("%s: no link to the help page in the page", what)
	}
	if body := strings.ToLower(rec.Body.String()); strings.Contains(body, "boom") || strings.Contains(body, "goroutine") {
		t.Errorf("%s shows internals", what)
	}
}

func TestNotFoundPageLeadsHomeAndToHelp(t *testing.T) {
	tr := newTour(t)
	assertPatientErrorPage(t, "unknown address", tr.a.client().get("/referti-vecchi"), http.StatusNotFound, "/")
	// Logged in, home is the dossier, and the header is the patient's.
	rec := tr.rossi.get("/fascicolo/referti/987654/elimina")
	assertPatientErrorPage(t, "another patient's report", rec, http.StatusNotFound, "/fascicolo")
	if parseHTML(t, rec.Body.String()).Find(`header form[action="/esci"]`).Length() == 0 {
		t.Error("a logged-in patient's 404 has no «Esci»")
	}
}

// TestServerErrorPageLeadsHomeAndToHelp goes through the server's error
// handler with an error no handler maps, as a failing database would give.
func TestServerErrorPageLeadsHomeAndToHelp(t *testing.T) {
	a := newApp(t)
	req := httptest.NewRequest(http.MethodGet, "/fascicolo", nil)
	rec := httptest.NewRecorder()
	a.e.HTTPErrorHandler(errors.New("boom: database is locked"), a.e.NewContext(req, rec))
	assertPatientErrorPage(t, "server error", rec, http.StatusInternalServerError, "/")
	if got := parseHTML(t, rec.Body.String()).Find("main h1").Text(); !strings.Contains(got, "errore") {
		t.Errorf("500 heading %q", got)
	}
}

// TestDeskErrorsKeepTheDeskPage: the staff's error page is unchanged, with
// its way back to the desk.
func TestDeskErrorsKeepTheDeskPage(t *testing.T) {
	a := newApp(t)
	rec := a.deskClient().get("/desk/visits/987654")
	if rec.Code != http.StatusNotFound || parseHTML(t, rec.Body.String()).Find(`a[href="/desk"]`).Length() == 0 {
		t.Errorf("desk 404: %d, want a way back to /desk", rec.Code)
	}
}

// TestHelpPageAnswersTheQuestionsOfStuckPatients: every question the desk
// hears has its anchor on the help page, and the header links to it.
func TestHelpPageAnswersTheQuestionsOfStuckPatients(t *testing.T) {
	a := newApp(t)
	rec := a.client().get(views.HelpPath)
	if rec.Code != http.StatusOK {
		t.Fatalf("help page: %d", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	for anchor, says := range map[string]string{
		views.HelpNoReport: "pronto", views.HelpMobile: "sportello in accettazione", views.HelpLostSlip: "ristamperà",
		views.HelpCodes: "scadut", views.HelpRelatives: "stesso numero di cellulare", views.HelpDeletion: "eliminare",
		views.HelpPaper: "facoltativo", views.HelpPassword: "Password dimenticata",
	} {
		sec := doc.Find("section#" + anchor)
		if sec.Length() != 1 || !strings.Contains(sec.Text(), says) {
			t.Errorf("help page: question #%s missing or not saying %q", anchor, says)
		}
		if doc.Find(`nav a[href="#`+anchor+`"]`).Length() != 1 {
			t.Errorf("help page: the list of questions lacks #%s", anchor)
		}
	}
	if !strings.Contains(doc.Find("section#"+views.HelpNoReport).Text(), "60 giorni") {
		t.Error("the help page does not quote the portal's retention")
	}
}
