package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Tests of the slip printed in English: the desk chooses "Lingua del
// modulo" on the acceptance or reprint form; the printed slip (its
// article) speaks that language while the desk's page around it stays
// Italian.

// seSlipEnglish are words of the English slip's instructions.
var seSlipEnglish = []string{"Report pickup slip", "Activation code", "Valid until", "How to get your reports online",
	"Sign up", "tax code (codice fiscale)", "by text message", "at most", "60 days", "The online service is optional",
	"frequently asked questions at", "Scan the QR code"}

// seSlipItalian are words of the Italian slip's instructions.
var seSlipItalian = []string{"Modulo per il ritiro referti", "Codice di attivazione", "Valido fino al", "Come ricevere i referti online",
	"Registrati", "Inquadri il codice QR", "60 giorni", "Il servizio online è facoltativo", "domande frequenti su"}

// seCheckSlip checks the printed slip of doc speaks lang's words and none
// of the other's, with code on it, and the desk's controls around it stay
// Italian.
func seCheckSlip(t *testing.T, doc *goquery.Document, code string, want, notWant []string) {
	t.Helper()
	slip := doc.Find("article.slip")
	if slip.Length() != 1 {
		t.Fatal("no printed slip on the page")
	}
	text := strings.Join(strings.Fields(slip.Text()), " ")
	if got := strings.TrimSpace(slip.Find("[data-testid=activation-code]").Text()); got != code {
		t.Errorf("slip code = %q, want %q", got, code)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("printed slip lacks %q:\n%s", w, text)
		}
	}
	for _, w := range notWant {
		if strings.Contains(text, w) {
			t.Errorf("printed slip says %q:\n%s", w, text)
		}
	}
	// The desk's own words around the slip are Italian whatever the slip's.
	page := strings.Join(strings.Fields(doc.Find("main").Text()), " ")
	for _, w := range []string{"Stampa il modulo", "Vai all'accettazione", "Il codice di attivazione è mostrato solo ora"} {
		if !strings.Contains(page, w) {
			t.Errorf("the desk's page around the slip lacks %q", w)
		}
	}
}

func TestTheSlipPrintedInEnglishGivesEnglishInstructions(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	form := a.acceptForm()
	form.Set("slip_lang", "en")
	_, code, _, doc := accSlip(t, desk, form)
	seCheckSlip(t, doc, code, seSlipEnglish, seSlipItalian)
	slip := doc.Find("article.slip")
	if lang, _ := slip.Attr("lang"); lang != "en" {
		t.Errorf("slip lang = %q, want en", lang)
	}
	if label, _ := slip.Find("svg.qr").Attr("aria-label"); label != "QR code that opens the activation page" {
		t.Errorf("QR label = %q, want it in English", label)
	}
	// The facts stay the patient's: name, mobile, exams.
	text := slip.Text()
	for _, w := range []string{"Rossi Mario", "4567", "Emocromo", "Patient", "Mobile"} {
		if !strings.Contains(text, w) {
			t.Errorf("English slip lacks %q", w)
		}
	}
}

// Without a choice the slip is Italian, as it always was.
func TestTheSlipIsItalianByDefault(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	_, code, _, doc := accSlip(t, desk, a.acceptForm())
	seCheckSlip(t, doc, code, seSlipItalian, []string{"Report pickup slip", "Activation code", "How to get"})
	if lang, _ := doc.Find("article.slip").Attr("lang"); lang != "it" {
		t.Errorf("slip lang = %q, want it", lang)
	}
}

// The acceptance form and both reprint forms (the visit's page, the slip
// already shown) offer the choice, Italian first and chosen; a form sent
// back with an error keeps what the desk chose.
func TestTheDeskChoosesTheSlipLanguage(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	seChoice := func(what string, doc *goquery.Document, want string) {
		t.Helper()
		sel := doc.Find("select[name=slip_lang]")
		if sel.Length() != 1 {
			t.Fatalf("%s: no slip language choice", what)
		}
		if label := strings.TrimSpace(doc.Find("label[for=" + sel.AttrOr("id", "") + "]").Text()); label != "Lingua del modulo" {
			t.Errorf("%s: choice labelled %q", what, label)
		}
		var opts []string
		sel.Find("option").Each(func(_ int, o *goquery.Selection) { opts = append(opts, o.AttrOr("value", "")+"="+o.Text()) })
		if got := strings.Join(opts, ","); got != "it=Italiano,en=English" {
			t.Errorf("%s: options %s", what, got)
		}
		if got := sel.Find("option[selected]").AttrOr("value", ""); got != want {
			t.Errorf("%s: %q chosen, want %q", what, got, want)
		}
	}
	seChoice("acceptance form", parseHTML(t, desk.get("/desk/accept").Body.String()), "it")

	bad := a.acceptForm()
	bad.Set("slip_lang", "en")
	bad.Set("exams", "")
	rec := desk.postAccept(bad)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("acceptance without exams: %d", rec.Code)
	}
	seChoice("acceptance form sent back", parseHTML(t, rec.Body.String()), "en")

	visitID, _ := desk.accept(a.acceptForm())
	visitPage := parseHTML(t, desk.get(fmt.Sprintf("/desk/visits/%d", visitID)).Body.String())
	seChoice("visit page", visitPage, "it")
	if visitPage.Find(fmt.Sprintf(`form[action="/desk/visits/%d/reprint"] select[name=slip_lang]`, visitID)).Length() != 1 {
		t.Error("the visit page's choice is not in its reprint form")
	}
	shown := parseHTML(t, desk.get(fmt.Sprintf("/desk/visits/%d/slip", visitID)).Body.String())
	seChoice("slip already shown", shown, "it")
}

// A reprint asks its own language: English, then Italian again.
func TestAReprintIsPrintedInTheLanguageItAsks(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	visitID, _ := desk.accept(a.acceptForm())
	for _, tt := range []struct {
		lang          string
		want, notWant []string
	}{{"en", seSlipEnglish, seSlipItalian}, {"", seSlipItalian, seSlipEnglish}} {
		rec := desk.post(fmt.Sprintf("/desk/visits/%d/reprint", visitID), url.Values{"slip_lang": {tt.lang}})
		doc := parseHTML(t, desk.follow(rec).Body.String())
		code := strings.TrimSpace(doc.Find("[data-testid=activation-code]").Text())
		if !codePattern.MatchString(code) {
			t.Fatalf("reprint %q: no code on the slip", tt.lang)
		}
		seCheckSlip(t, doc, code, tt.want, tt.notWant)
	}
}
