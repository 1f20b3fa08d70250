package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fse/views"
)

// A refused form says why at each field (aria-invalid, aria-describedby
// naming the message, checkboxes and radios too), and at the top an error
// summary, focused on load, links to each field.

// errWant is what a refused form must show for one field.
type errWant struct {
	field string // the name: the control is #f-field, its message #e-field
	says  string
}

// assertFieldErrors checks the summary and each field's error of a page.
func assertFieldErrors(t *testing.T, what string, rec *httptest.ResponseRecorder, wants ...errWant) *goquery.Document {
	t.Helper()
	doc := parseHTML(t, rec.Body.String())
	summary := doc.Find("main [data-error-summary]")
	if summary.Length() != 1 {
		t.Fatalf("%s: no error summary\n%s", what, paSnippet(rec))
	}
	if _, ok := summary.Attr("autofocus"); !ok || summary.AttrOr("tabindex", "") != "-1" {
		t.Errorf("%s: the error summary does not take the focus (autofocus, tabindex=-1)", what)
	}
	if h1 := doc.Find("main h1"); h1.Length() > 0 && !strings.Contains(mainOrder(doc), "summary<h1") {
		t.Errorf("%s: the error summary is not at the top, before the heading", what)
	}
	links := summary.Find("li a")
	if links.Length() != len(wants) {
		t.Errorf("%s: the summary links %d fields, want %d: %q", what, links.Length(), len(wants), links.Text())
	}
	for i, w := range wants {
		ctl := doc.Find("#f-" + w.field)
		if ctl.Length() != 1 {
			t.Errorf("%s: no control #f-%s for the summary's link", what, w.field)
			continue
		}
		if i < links.Length() {
			if href := links.Eq(i).AttrOr("href", ""); href != "#f-"+w.field {
				t.Errorf("%s: summary link %d goes to %q, want #f-%s", what, i+1, href, w.field)
			}
		}
		msg := doc.Find("#e-" + w.field)
		if !strings.Contains(msg.Text(), w.says) {
			t.Errorf("%s: message at %s is %q, want it to say %q", what, w.field, msg.Text(), w.says)
		}
		// Every control of the field: the input, or each radio of a group.
		doc.Find(`[name="` + w.field + `"]:not([type=hidden])`).Each(func(_ int, c *goquery.Selection) {
			if c.AttrOr("aria-invalid", "") != "true" || c.AttrOr("aria-describedby", "") != "e-"+w.field {
				t.Errorf("%s: %s control %s has aria-invalid %q, aria-describedby %q", what, w.field, c.AttrOr("id", "?"),
					c.AttrOr("aria-invalid", ""), c.AttrOr("aria-describedby", ""))
			}
		})
	}
	return doc
}

// mainOrder is "summary" and "<h1" in the order they come in main.
func mainOrder(doc *goquery.Document) string {
	html, _ := doc.Find("main").Html()
	s, h := strings.Index(html, "data-error-summary"), strings.Index(html, "<h1")
	if s >= 0 && s < h {
		return "summary<h1"
	}
	return "h1<summary"
}

// helpLink is the error summary's link to the help page, "" if none.
func helpLink(doc *goquery.Document) string {
	return doc.Find(`[data-error-summary] a[data-testid=error-help]`).AttrOr("href", "")
}

func TestWrongActivationCodeIsToldAtTheCodeField(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	desk.accept(a.acceptForm())
	rossi := a.register("Mario", "Rossi", "333 1234567", "")
	rec := rossi.activate(rossiCF, fcUnknownCode)
	paWantStatus(t, "wrong code", rec, http.StatusUnprocessableEntity)
	doc := assertFieldErrors(t, "wrong activation code", rec, errWant{"code", "non validi"})
	if got := helpLink(doc); got != views.HelpURL(views.HelpCodes) {
		t.Errorf("wrong activation code: help link %q, want %q", got, views.HelpURL(views.HelpCodes))
	}
	// The code typed stays, so the patient corrects it instead of retyping.
	if got := doc.Find("#f-code").AttrOr("value", ""); got != fcUnknownCode {
		t.Errorf("code field after the refusal = %q", got)
	}
}

func TestActivationFormErrorsAreAtEachField(t *testing.T) {
	a := newApp(t)
	rossi := a.register("Mario", "Rossi", "333 1234567", "")
	rec := rossi.post("/attiva", url.Values{"fiscal_code": {"RSSMRA85T10A562X"}, "code": {"ABC"}})
	assertFieldErrors(t, "empty activation", rec,
		errWant{"consent", "consenso"}, errWant{"fiscal_code", "odice fiscale"}, errWant{"code", "12 caratteri"})
}

func TestWrongSMSCodeIsToldAtTheCodeField(t *testing.T) {
	a := newApp(t)
	c := a.client()
	paStartRegistration(t, c, "333 1234567", "")
	code := a.lastSMSCode(rossiMobile)
	rec := c.post("/registrati/codice", url.Values{"code": {paWrong(code)}})
	paWantStatus(t, "wrong SMS code", rec, http.StatusUnprocessableEntity)
	doc := assertFieldErrors(t, "wrong SMS code", rec, errWant{"code", "non è corretto"})
	if _, ok := doc.Find("#f-code").Attr("autofocus"); ok {
		t.Error("the code field keeps the autofocus: the error summary must get the focus")
	}
	if got := helpLink(doc); got != views.HelpURL(views.HelpCodes) {
		t.Errorf("wrong SMS code: help link %q", got)
	}
}

func TestWrongLoginIsToldAtThePassword(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "")
	_, rec := paLogin(a, "192.0.2.80", "333 1234567", "una password sbagliata e lunga")
	paWantStatus(t, "wrong password", rec, http.StatusUnauthorized)
	doc := assertFieldErrors(t, "wrong login", rec, errWant{"password", "non corretti"})
	if got := doc.Find("#f-identifier").AttrOr("value", ""); got != "333 1234567" {
		t.Errorf("identifier after the refusal = %q, want it kept", got)
	}
	_, rec = paLogin(a, "192.0.2.81", "", "")
	assertFieldErrors(t, "empty login", rec, errWant{"identifier", "Inserisca"}, errWant{"password", "Inserisca"})
}

func TestRefusedConsentIsToldAtTheCheckbox(t *testing.T) {
	a := newApp(t)
	rec := a.client().post("/registrati", url.Values{})
	doc := assertFieldErrors(t, "registration without consent", rec, errWant{"consent", "consenso"})
	if got := helpLink(doc); got != views.HelpURL(views.HelpPaper) {
		t.Errorf("refused consent: help link %q, want the paper pickup", got)
	}
}

func TestRadioGroupsCarryTheirErrors(t *testing.T) {
	tr := newTour(t)
	form := fcRelativeForm(fcChildCF(t))
	form.Del("sex")
	rec := tr.rossi.post("/profilo/familiari", form)
	assertFieldErrors(t, "relative without sex", rec, errWant{"sex", "sesso"})

	// Email notices need an email: Laura has none.
	laura := tr.a.register("Laura", "Bianchi", pdBianchiTyped, "")
	rec = laura.post("/profilo/preferenze", url.Values{"notify": {"email"}})
	assertFieldErrors(t, "email notices without an email", rec, errWant{"notify", "email"})
}

func TestErrorSummaryFollowsThePageOrder(t *testing.T) {
	a := newApp(t)
	c := a.client()
	c.post("/registrati", url.Values{"consent": {"1"}})
	rec := c.post("/registrati/profilo", url.Values{"password": {"corta"}, "password2": {"corta"}})
	assertFieldErrors(t, "empty profile", rec,
		errWant{"first_name", "nome"}, errWant{"last_name", "cognome"}, errWant{"mobile", "cellulare"}, errWant{"password", ""})
}

// TestRefusalsWithoutAFieldLinkTheHelpPage: a dossier registered at the
// desk with another mobile is not a field's fault: the summary says it,
// with the help page's question about the mobile.
func TestRefusalsWithoutAFieldLinkTheHelpPage(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	form := a.acceptForm()
	form.Set("mobile", "347 000 1111")
	_, code := desk.accept(form)
	rossi := a.register("Mario", "Rossi", "333 1234567", "")
	rec := rossi.activate(rossiCF, code)
	doc := parseHTML(t, rec.Body.String())
	summary := doc.Find("main [data-error-summary]")
	if !strings.Contains(summary.Text(), "sportello") {
		t.Errorf("summary %q does not explain the mobile", summary.Text())
	}
	if got := helpLink(doc); got != views.HelpURL(views.HelpMobile) {
		t.Errorf("help link %q, want %q", got, views.HelpURL(views.HelpMobile))
	}
}
