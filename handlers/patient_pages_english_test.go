package handlers_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// italianWords are words of Italian sentences and the portal's Italian
// names of things, which an English page must not show. Data the patient
// or the clinic typed (report titles, names) is taken out first.
var italianWords = regexp.MustCompile(`(?i)(^|[^\p{L}])(il|lo|gli|della|delle|degli|dello|che|sono|suo|sua|suoi|questo|questa|quando|può|puoi|deve|referto|referti|fascicolo|accedi|esci|registrati|informativa|attiva|scarica|elimina|annulla|conferma|familiari|profilo|accessi|domande frequenti|codice di attivazione|modulo)([^\p{L}]|$)`)

// TestEveryPatientPageSpeaksEnglish walks every page a patient can open,
// logged out and logged in, after choosing English: each page says it is
// English, shows no message missing from the English catalogue (every
// request checks that) and no Italian words but the data and the names
// Italians give to Italian things ("codice fiscale").
func TestEveryPatientPageSpeaksEnglish(t *testing.T) {
	tr := newTour(t)
	tr.rossi.get("/lingua/en?torna=/fascicolo")
	tr.visit(t, tr.a.englishClient(), func(s tourStop, doc *goquery.Document) {
		// The language link names Italian in Italian, as it should.
		doc.Find(`[data-testid=switch-language], [lang=it]`).Remove()
		wantEnglish(t, s.path, doc, doc.Find("header, main").Text(), italianWords,
			[]string{tourLongTitle, "Elettrocardiogramma", tourLongEmail, "Referti online", "codice fiscale"})
		if title := doc.Find("title").Text(); italianWords.MatchString(strings.ReplaceAll(title, "Referti online", "")) {
			t.Errorf("%s: Italian title %q", s.path, title)
		}
	})
}
