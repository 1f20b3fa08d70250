package handlers_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// The tour of the patient pages, shared by the rendered-HTML tests and
// the browser tests at phone size: a patient whose pages hold the longest
// things they can show (a long report title, a long email, a relative),
// and the list of every page a patient can open.

// Long values a page must wrap instead of scrolling sideways.
const (
	tourLongTitle = "Elettrocardiogramma dinamico secondo Holter delle 24 ore"
	tourLongEmail = "mario.rossi.con-un-indirizzo-lunghissimo@poliambulatorio-esempio-di-mantova.example.it"
)

// tour is Mario Rossi with his dossier activated, two reports published
// ("Elettrocardiogramma" and tourLongTitle), a confirmed long email, and
// his son Luca added as a relative, not yet activated.
type tour struct {
	a          *app
	rossi      *client
	patientID  int64
	reportID   int64
	relativeID int64
}

func newTour(t *testing.T) *tour {
	t.Helper()
	a := newApp(t)
	desk := a.deskClient()
	visit, code := desk.accept(a.acceptForm())
	publishReport(t, desk, visit, "Elettrocardiogramma")
	reportID, _ := publishReport(t, desk, visit, tourLongTitle)
	rossi := a.register("Mario", "Rossi", "333 1234567", tourLongEmail)
	pdActivate(t, rossi, rossiCF, code)
	rel := fcAddRelative(t, rossi, fcRelativeForm(fcChildCF(t)))
	// The relative's activation page shows (and consumes) the notice of
	// the addition, as the browser following the redirect would.
	rossi.get("/profilo/familiari/" + itoa(rel) + "/attiva")
	return &tour{a: a, rossi: rossi, patientID: patientByCF(t, a, rossiCF).ID, reportID: reportID, relativeID: rel}
}

// visit opens every stop, as anon or as the logged-in patient, and hands
// check each page that answered with the status it should.
func (tr *tour) visit(t *testing.T, anon *client, check func(s tourStop, doc *goquery.Document)) {
	t.Helper()
	for _, s := range tr.stops() {
		c := anon
		if s.loggedIn {
			c = tr.rossi
		}
		rec := c.get(s.path)
		if rec.Code != s.status {
			t.Errorf("GET %s: status %d, want %d", s.path, rec.Code, s.status)
			continue
		}
		check(s, parseHTML(t, rec.Body.String()))
	}
}

// tourStop is one page of the tour: its address, whether the patient is
// logged in to see it, and the status it answers.
type tourStop struct {
	path     string
	loggedIn bool
	status   int
}

// stops are every patient page that a GET opens, public ones first. The
// registration's later steps need a form posted first: the browser test
// walks them itself.
func (tr *tour) stops() []tourStop {
	p, r, rel := itoa(tr.patientID), itoa(tr.reportID), itoa(tr.relativeID)
	return []tourStop{
		{"/", false, 200},
		{"/accedi", false, 200},
		{"/registrati", false, 200},
		{"/password-dimenticata", false, 200},
		{"/informativa", false, 200},
		{"/informativa-fascicolo", false, 200},
		{"/aiuto", false, 200},
		{"/condivisi", false, 200},
		{"/pagina-che-non-esiste", false, 404},

		{"/fascicolo", true, 200},
		{"/fascicolo/accessi", true, 200},
		{"/attiva", true, 200},
		{"/profilo", true, 200},
		{"/profilo/familiari", true, 200},
		{"/profilo/familiari/" + rel + "/attiva", true, 200},
		{"/profilo/sicurezza", true, 200},
		{"/profilo/sicurezza/app", true, 200},
		{"/profilo/elimina", true, 200},
		{"/fascicolo/" + p + "/disattiva", true, 200},
		{"/fascicolo/" + p + "/riattiva", true, 200},
		{"/fascicolo/" + p + "/azzera", true, 200},
		{"/fascicolo/" + p + "/scollega", true, 200},
		{"/fascicolo/referti/" + r + "/elimina", true, 200},
		{"/fascicolo/" + p + "/condividi", true, 200},
		{"/fascicolo/condivisioni", true, 200},
		{"/fascicolo/" + p + "/email", true, 200},
		{"/aiuto", true, 200},
		{"/fascicolo/referti/987654/elimina", true, 404},
	}
}

// wantEnglish fails unless doc says it is English and text (taken from doc)
// shows every want and, once the data that may stay Italian is taken out,
// no word that italian matches.
func wantEnglish(t *testing.T, what string, doc *goquery.Document, text string, italian *regexp.Regexp, data []string, want ...string) {
	t.Helper()
	if l := doc.Find("html").AttrOr("lang", ""); l != "en" {
		t.Errorf("%s: <html lang=%q>, want en", what, l)
	}
	text = strings.Join(strings.Fields(text), " ")
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s: %q missing from %q", what, w, text)
		}
	}
	for _, d := range data {
		text = strings.ReplaceAll(text, d, " ")
	}
	if m := italian.FindStringSubmatchIndex(text); m != nil {
		t.Errorf("%s shows Italian %q in …%s…", what, text[m[4]:m[5]], text[max(0, m[4]-80):min(len(text), m[5]+80)])
	}
}
