package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fse/views"
)

// tuForm finds the familiar "tu" in a patient's page: the pronouns and the
// second-person verbs of sentences. Button labels ("Accedi", "Scarica il
// PDF") are the short names of the leaflet and are not sentences.
var tuForm = regexp.MustCompile(`(?i)(^|[^\p{L}])(tu|tuo|tua|tuoi|tue|ti|te|puoi|hai|vuoi|devi|potrai|riceverai|vedrai|dovrai|scegli tu|riprova|inserisci|controlla|chiedi|rivolgiti|scaricalo|annotalo)([^\p{L}]|$)`)

// quoted are the «labels» of other programs a page quotes.
var quoted = regexp.MustCompile(`«[^»]*»`)

// TestEveryPatientPageSpeaksLeiUnderTheSameHeader walks every page a
// patient can open: each answers with the header (and its link to the
// help page), one form of address ("Lei"), the portal's name once in the
// title, no inline style (the CSP would block it), no version code of a
// notice, and, when public, a meta description.
func TestEveryPatientPageSpeaksLeiUnderTheSameHeader(t *testing.T) {
	tr := newTour(t)
	tr.visit(t, tr.a.client(), func(s tourStop, doc *goquery.Document) {
		if doc.Find(`header.top a[href="`+views.HelpPath+`"]`).Length() == 0 {
			t.Errorf("%s: the header has no link to %s", s.path, views.HelpPath)
		}
		if title := doc.Find("title").Text(); strings.Count(title, "Referti online") != 1 {
			t.Errorf("%s: title %q, want the portal's name once", s.path, title)
		}
		if n := doc.Find("[style]").Length(); n > 0 {
			t.Errorf("%s: %d elements with an inline style", s.path, n)
		}
		text := doc.Find("header, main").Text()
		// «Quoted» words are another program's labels (an app's menu).
		if m := tuForm.FindStringSubmatch(quoted.ReplaceAllString(text, "«»")); m != nil {
			i := strings.Index(text, m[0])
			t.Errorf("%s speaks with «tu»: %q in …%s…", s.path, m[2], text[max(0, i-60):min(len(text), i+60)])
		}
		for _, v := range []string{views.ServicePrivacyVersion, views.DossierPrivacyVersion, "Versione "} {
			if strings.Contains(text, v) {
				t.Errorf("%s shows the notice's version code %q", s.path, v)
			}
		}
		desc := doc.Find(`meta[name=description]`).AttrOr("content", "")
		if !s.loggedIn && len(desc) < 50 {
			t.Errorf("%s: public page with meta description %q", s.path, desc)
		}
	})
}

// TestTheSlipPointsToTheHelpPageWithoutInlineStyle: the slip gives the
// help page's address for a patient stuck at home; its page is printed
// from the desk's browser under the same CSP, which blocks style
// attributes.
func TestTheSlipPointsToTheHelpPageWithoutInlineStyle(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	rec := desk.follow(desk.postAccept(a.acceptForm()))
	doc := parseHTML(t, rec.Body.String())
	if doc.Find("article.slip").Length() != 1 {
		t.Fatalf("no slip after the acceptance (status %d)", rec.Code)
	}
	if n := doc.Find("[style]").Length(); n > 0 {
		t.Errorf("the slip has %d elements with an inline style", n)
	}
	if got := doc.Find("[data-testid=slip-faq]").Text(); !strings.Contains(got, "https://referti.example.it"+views.HelpPath) {
		t.Errorf("the slip's help line %q does not give the help page's address", got)
	}
}

// TestTheHomePageTitleSaysThePortalsNameOnce: "Referti online", not
// "Referti online · Referti online"; other pages put their own first.
func TestTheHomePageTitleSaysThePortalsNameOnce(t *testing.T) {
	a := newApp(t)
	for path, want := range map[string]string{"/": "Referti online", "/accedi": "Accedi · Referti online",
		"/aiuto": "Domande frequenti · Referti online"} {
		if got := parseHTML(t, a.client().get(path).Body.String()).Find("title").Text(); got != want {
			t.Errorf("%s: title %q, want %q", path, got, want)
		}
	}
}

// TestMetaDescriptionOnPublicPagesOnly: search engines and link previews
// describe the public pages; pages behind login have none.
func TestMetaDescriptionOnPublicPagesOnly(t *testing.T) {
	tr := newTour(t)
	home := parseHTML(t, tr.a.client().get("/").Body.String())
	if got := home.Find(`meta[name=description]`).AttrOr("content", ""); !strings.Contains(got, "referti") {
		t.Errorf("home page description %q", got)
	}
	if n := parseHTML(t, tr.rossi.get("/fascicolo").Body.String()).Find(`meta[name=description]`).Length(); n != 0 {
		t.Errorf("the dossier has %d meta descriptions, want none behind login", n)
	}
}

// TestConsentPagesSummariseAndKeepTheFullNoticeOneTapAway: registration's
// first step, the activations and the re-enabling show a short summary,
// the consent, and the full notice closed in a <details> with its edition
// in words and a link to its own page.
func TestConsentPagesSummariseAndKeepTheFullNoticeOneTapAway(t *testing.T) {
	tr := newTour(t)
	p := itoa(tr.patientID)
	pages := []struct {
		path     string
		c        *client
		notice   string
		fullText string
	}{
		{"/registrati", tr.a.client(), "/informativa", "Base giuridica"},
		{"/attiva", tr.rossi, "/informativa-fascicolo", "registrati con data, ora e autore"},
		{"/profilo/familiari/" + itoa(tr.relativeID) + "/attiva", tr.rossi, "/informativa-fascicolo", "registrati con data, ora e autore"},
		{"/fascicolo/" + p + "/riattiva", tr.rossi, "/informativa-fascicolo", "registrati con data, ora e autore"},
	}
	for _, pg := range pages {
		doc := parseHTML(t, pg.c.get(pg.path).Body.String())
		summary := doc.Find("section.summary")
		if summary.Length() != 1 || summary.Find("li").Length() < 3 {
			t.Errorf("%s: no short summary of the notice", pg.path)
		}
		details := doc.Find("form details.notice-full")
		if details.Length() != 1 {
			t.Errorf("%s: the full notice is not in a <details> of the form", pg.path)
			continue
		}
		if _, open := details.Attr("open"); open {
			t.Errorf("%s: the full notice is open: it pushes the consent down", pg.path)
		}
		if !strings.Contains(details.Text(), pg.fullText) {
			t.Errorf("%s: the <details> lacks the full notice (%q)", pg.path, pg.fullText)
		}
		if got := details.Find("summary").Text(); !strings.Contains(got, "aggiornata a novembre 2026") {
			t.Errorf("%s: the notice's summary line %q does not say its edition in words", pg.path, got)
		}
		if details.Find(`a[href="`+pg.notice+`"]`).Length() != 1 {
			t.Errorf("%s: no link to the notice's own page %s", pg.path, pg.notice)
		}
		// The summary comes before the consent, the consent before the button.
		html, _ := doc.Find("main").Html()
		iSum, iBox, iBtn := strings.Index(html, `class="card summary"`), strings.Index(html, `name="consent"`), strings.Index(html, `type="submit"`)
		if !(iSum >= 0 && iSum < iBox && iBox < iBtn) {
			t.Errorf("%s: order summary %d, consent %d, button %d", pg.path, iSum, iBox, iBtn)
		}
	}
}

// TestProfileChangesThePasswordBeforeTheDangerZone: "Cambia password"
// comes before "Elimina account", which stands apart, in red.
func TestProfileChangesThePasswordBeforeTheDangerZone(t *testing.T) {
	tr := newTour(t)
	doc := parseHTML(t, tr.rossi.get("/profilo").Body.String())
	sections := doc.Find("main section.card")
	last := sections.Last()
	if v, _ := last.Attr("data-testid"); v != "delete-account" {
		t.Errorf("the last section of the profile is %q, want the account deletion", strings.TrimSpace(last.Find("h2").Text()))
	}
	if !last.HasClass("danger-zone") || last.Find(`a.button.destructive[href="/profilo/elimina"]`).Length() != 1 {
		t.Error("the account deletion is not set apart as a danger zone with a destructive button")
	}
	if v, _ := last.Prev().Attr("data-testid"); v != "change-password" {
		t.Errorf("before the deletion comes %q, want «Cambia password»", strings.TrimSpace(last.Prev().Find("h2").Text()))
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid=profile-email]`).Text()); got != tourLongEmail {
		t.Errorf("profile email %q, want %q", got, tourLongEmail)
	}
}

// TestDeletingAReportStandsApartFromDownloading: on the dossier, "Elimina"
// is a destructive button, not one of "Scarica" and "Apri".
func TestDeletingAReportStandsApartFromDownloading(t *testing.T) {
	tr := newTour(t)
	doc := parseHTML(t, tr.rossi.get("/fascicolo").Body.String())
	reports := doc.Find("li.report")
	if reports.Length() != 2 {
		t.Fatalf("%d reports on the dossier, want 2", reports.Length())
	}
	for i := range reports.Length() {
		r := reports.Eq(i)
		del := r.Find(`.actions a[href$="/elimina"]`)
		if !del.HasClass("destructive") || del.HasClass("secondary") {
			t.Errorf("report %d: «Elimina» has classes %q, want a destructive button", i, del.AttrOr("class", ""))
		}
		if r.Find(`.actions a[download]`).HasClass("destructive") {
			t.Errorf("report %d: «Scarica» looks destructive", i)
		}
	}
}

// TestPasswordFieldsWorkWithoutScript: the "Mostra" button is hidden
// until the script shows it, the field is a plain password field, and the
// button names the field it controls.
func TestPasswordFieldsWorkWithoutScript(t *testing.T) {
	a := newApp(t)
	doc := parseHTML(t, a.client().get("/accedi").Body.String())
	input := doc.Find("#f-password")
	if input.AttrOr("type", "") != "password" {
		t.Errorf("password field type %q", input.AttrOr("type", ""))
	}
	btn := doc.Find(`button[data-reveal="f-password"]`)
	if btn.Length() != 1 {
		t.Fatal("no «Mostra» button for the password")
	}
	if _, hidden := btn.Attr("hidden"); !hidden {
		t.Error("the «Mostra» button shows without the script: it would do nothing")
	}
	if btn.AttrOr("type", "") != "button" || btn.AttrOr("aria-controls", "") != "f-password" {
		t.Errorf("«Mostra» button: type %q, aria-controls %q", btn.AttrOr("type", ""), btn.AttrOr("aria-controls", ""))
	}
}

// TestCountsAgreeWithTheirNumber: the flash after resetting a dossier of
// one report says "1 referto", not "1 referti".
func TestCountsAgreeWithTheirNumber(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	visit, code := desk.accept(a.acceptForm())
	publishReport(t, desk, visit, "Esami del sangue")
	rossi := a.register("Mario", "Rossi", "333 1234567", "")
	pdActivate(t, rossi, rossiCF, code)
	p := itoa(patientByCF(t, a, rossiCF).ID)
	paWantRedirect(t, "reset", rossi.post("/fascicolo/"+p+"/azzera", url.Values{}), "/fascicolo?p="+p)
	rec := rossi.get("/fascicolo?p=" + p)
	if got := parseHTML(t, rec.Body.String()).Find(".flash").Text(); !strings.Contains(got, "1 referto eliminato definitivamente") {
		t.Errorf("flash %q, want «1 referto eliminato»", got)
	}
	if rec.Code != http.StatusOK {
		t.Errorf("dossier after the reset: %d", rec.Code)
	}
}
