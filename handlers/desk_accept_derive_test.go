package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fse/internal/codicefiscale"
)

// Tests of what the acceptance derives from the codice fiscale: birth
// date, sex and birth place filled when left empty, a birth place the code
// does not encode refused at its field, and the reading the form's script
// asks for while the receptionist types.

// dwNaplesCF is a fictional man born in Naples (F839) on 10/12/1985.
func dwNaplesCF(t testing.TB) string {
	t.Helper()
	cf, err := codicefiscale.Generate("Esposito", "Gennaro", time.Date(1985, 12, 10, 0, 0, 0, 0, time.UTC), "M", "F839")
	if err != nil {
		t.Fatal(err)
	}
	return cf
}

func TestAcceptFillsBirthDateSexAndPlaceLeftEmptyFromTheFiscalCode(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	accSlip(t, c, accWith(a.acceptForm(), "birth_date", "", "sex", "", "birth_place", " "))
	p := patientByCF(t, a, rossiCF)
	if got := p.BirthDate.UTC().Format(time.DateOnly); got != "1985-12-10" {
		t.Errorf("birth date: got %s, want 1985-12-10", got)
	}
	if p.Sex != "M" || p.BirthPlace != "San Giuliano Terme" {
		t.Errorf("sex %q, birth place %q; want M, San Giuliano Terme", p.Sex, p.BirthPlace)
	}
}

// Today's bug: "Roma" was accepted for a Naples code.
func TestAcceptRefusesABirthPlaceTheFiscalCodeDoesNotEncode(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	naples := dwNaplesCF(t)
	doc := accRefused(t, c, accWith(a.acceptForm(), "fiscal_code", naples, "first_name", "Gennaro", "last_name", "Esposito",
		"birth_date", "", "birth_place", "Roma"))
	errs := accFieldErrors(doc)
	if got, want := errs["e-birth_place"], "non corrisponde al codice fiscale, che indica Napoli (NA)"; !strings.Contains(got, want) {
		t.Errorf("#e-birth_place: got %q, want it to contain %q (all: %v)", got, want, errs)
	}
	if len(errs) != 1 {
		t.Errorf("field errors: %v, want only the birth place", errs)
	}
	if inv, _ := doc.Find("#f-birth_place").Attr("aria-invalid"); inv != "true" {
		t.Errorf("#f-birth_place aria-invalid = %q, want true", inv)
	}
	// The form comes back with the birth date read from the code.
	if got, _ := doc.Find("#f-birth_date").Attr("value"); got != "1985-12-10" {
		t.Errorf("#f-birth_date value = %q, want 1985-12-10", got)
	}
	accNoRows(t, a)

	// The place the code names is accepted, with or without its province.
	for _, place := range []string{"Napoli", "napoli (NA)"} {
		accSlip(t, c, accWith(a.acceptForm(), "fiscal_code", naples, "first_name", "Gennaro", "last_name", "Esposito",
			"birth_place", place))
	}
}

// Older patients were born in municipalities that have since merged: the
// code of Corigliano Calabro (D005, part of Corigliano-Rossano since 2018)
// is accepted with either name.
func TestAcceptTakesAFormerMunicipalityOrTheOneItMergedInto(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	cf, err := codicefiscale.Generate("Greco", "Rosa", time.Date(1941, 3, 2, 0, 0, 0, 0, time.UTC), "F", "D005")
	if err != nil {
		t.Fatal(err)
	}
	form := accWith(a.acceptForm(), "fiscal_code", cf, "first_name", "Rosa", "last_name", "Greco", "birth_date", "1941-03-02", "sex", "F")
	for _, place := range []string{"Corigliano Calabro", "Corigliano-Rossano"} {
		accSlip(t, c, accWith(form, "birth_place", place))
	}
	doc := accRefused(t, c, accWith(form, "birth_place", "Milano"))
	if got, want := accFieldErrors(doc)["e-birth_place"], "Corigliano Calabro (CS), comune soppresso il 31/03/2018"; !strings.Contains(got, want) {
		t.Errorf("#e-birth_place: got %q, want it to contain %q", got, want)
	}
}

// dwReading asks the desk's reading of a codice fiscale, as the
// acceptance form's script does while the receptionist types.
func dwReading(t *testing.T, c *client, cf string) (int, map[string]any) {
	t.Helper()
	rec := c.post("/desk/accept/codice-fiscale", url.Values{"fiscal_code": {cf}})
	var out map[string]any
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("reading of %q: %v\n%s", cf, err, rec.Body.String())
		}
	}
	return rec.Code, out
}

func TestTheAcceptanceFormReadsTheFiscalCodeWhileTyping(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	maria, err := codicefiscale.Generate("Rossi", "Maria", time.Date(1985, 12, 10, 0, 0, 0, 0, time.UTC), "F", "A562")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, cf  string
		valid     bool
		birth     string
		sex       string
		inSummary string
	}{
		{"a man", "rss mra 85t10 a562s", true, "1985-12-10", "M", "Nato il 10/12/1985 a San Giuliano Terme (PI)"},
		{"a woman", maria, true, "1985-12-10", "F", "Nata il 10/12/1985"},
		{"born abroad", accCheckChar("RSSMRA85T10Z129"), true, "1985-12-10", "M", "in Romania (stato estero)"},
		{"a typo", "RSSMRA85T10A562T", false, "", "", "carattere di controllo"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, r := dwReading(t, c, tt.cf)
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			if r["valid"] != tt.valid || fmt.Sprint(r["birth_date"]) != fmt.Sprint(orNil(tt.birth)) || fmt.Sprint(r["sex"]) != fmt.Sprint(orNil(tt.sex)) {
				t.Errorf("reading = %v, want valid %v, birth %q, sex %q", r, tt.valid, tt.birth, tt.sex)
			}
			if s, _ := r["summary"].(string); !strings.Contains(s, tt.inSummary) {
				t.Errorf("summary %q, want it to contain %q", s, tt.inSummary)
			}
		})
	}
	// Only staff may ask.
	if rec := a.client().post("/desk/accept/codice-fiscale", url.Values{"fiscal_code": {rossiCF}}); rec.Code != http.StatusUnauthorized {
		t.Errorf("anonymous reading: status %d, want 401", rec.Code)
	}
	// The form has what the script needs.
	doc := parseHTML(t, c.get("/desk/accept").Body.String())
	if v, _ := doc.Find("form[action='/desk/accept']").Attr("data-read-fiscal-code"); v != "/desk/accept/codice-fiscale" {
		t.Errorf("acceptance form data-read-fiscal-code = %q", v)
	}
	if doc.Find("[data-fiscal-code-reading][aria-live=polite]").Length() != 1 {
		t.Error("acceptance form has no live region for the reading")
	}
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}
