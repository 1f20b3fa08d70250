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
	"fse/internal/actcode"
	"fse/internal/codicefiscale"
)

// Tests of the acceptance form: validation of each field, the patient
// record, accession numbers, declined online delivery, prefill and audit.

// accCheckChar appends the official check character to the first 15
// characters of a codice fiscale; it is an oracle independent of the
// package under test, so invalid codes can differ in one field only.
func accCheckChar(s15 string) string {
	odd := [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
		1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23} // A-Z
	sum := 0
	for i := 0; i < 15; i++ {
		c := s15[i]
		idx, even := 0, 0
		if c >= '0' && c <= '9' {
			idx, even = int(c-'0'), int(c-'0')
		} else {
			idx, even = 10+int(c-'A'), int(c-'A')
		}
		if i%2 == 0 {
			sum += odd[idx]
		} else {
			sum += even
		}
	}
	return s15 + string(rune('A'+sum%26))
}

// accNoRows fails unless the refused acceptance left no patient, visit or code.
func accNoRows(t *testing.T, a *app) {
	t.Helper()
	for _, table := range []string{"patients", "visits", "activation_codes"} {
		if got := authCount(t, a, "SELECT count(*) FROM "+table); got != 0 {
			t.Errorf("%s rows after a refused acceptance: got %d, want 0", table, got)
		}
	}
}

// accFieldErrors maps the id of every field error shown on the page
// ("e-fiscal_code") to its text; errors without an id are keyed by the name
// of the form control next to them.
func accFieldErrors(doc *goquery.Document) map[string]string {
	out := map[string]string{}
	doc.Find(".field-error").Each(func(_ int, s *goquery.Selection) {
		id, ok := s.Attr("id")
		if !ok {
			name, _ := s.Parent().Find("[name]").First().Attr("name")
			id = "(no id) " + name
		}
		out[id] = strings.TrimSpace(s.Text())
	})
	return out
}

// accRefused posts form, requires a 422 and returns the parsed page.
func accRefused(t *testing.T, c *client, form url.Values) *goquery.Document {
	t.Helper()
	rec := c.postAccept(form)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("POST /desk/accept: status %d, want %d\n%s", rec.Code, http.StatusUnprocessableEntity, rec.Body.String())
	}
	return parseHTML(t, rec.Body.String())
}

// accSetClock moves the app's clock to t.
func accSetClock(a *app, t time.Time) { a.advance(t.Sub(a.Now())) }

func TestAcceptFiscalCodeValidation(t *testing.T) {
	if got := accCheckChar(rossiCF[:15]); got != rossiCF {
		t.Fatalf("test oracle: accCheckChar(%q) = %q, want %q", rossiCF[:15], got, rossiCF)
	}
	omo1, err := codicefiscale.Omocode(rossiCF, 1)
	if err != nil {
		t.Fatal(err)
	}
	omo7, err := codicefiscale.Omocode(rossiCF, 7)
	if err != nil {
		t.Fatal(err)
	}
	maria, err := codicefiscale.Generate("Rossi", "Maria", time.Date(1985, 12, 10, 0, 0, 0, 0, time.UTC), "F", "A562")
	if err != nil {
		t.Fatal(err)
	}
	if maria[9:11] != "50" {
		t.Fatalf("woman's code %s: day digits %q, want 50", maria, maria[9:11])
	}

	tests := []struct {
		name string
		set  []string // field/value pairs changed from a.acceptForm()
		// Accepted: the normalized code stored and the sex.
		wantCF, wantSex string
		// Refused: the field whose error is shown and part of its message.
		errField, errMsg string
	}{
		{name: "lowercase with spaces", set: []string{"fiscal_code", "rss mra 85t10 a562s"}, wantCF: rossiCF, wantSex: "M"},
		{name: "lowercase with dashes", set: []string{"fiscal_code", " rss-mra-85t10-a562s "}, wantCF: rossiCF, wantSex: "M"},
		{name: "omocodia 1", set: []string{"fiscal_code", omo1}, wantCF: omo1, wantSex: "M"},
		{name: "omocodia 7", set: []string{"fiscal_code", strings.ToLower(omo7)}, wantCF: omo7, wantSex: "M"},
		{name: "woman", set: []string{"fiscal_code", maria, "first_name", "Maria", "sex", "F"}, wantCF: maria, wantSex: "F"},

		{name: "empty", set: []string{"fiscal_code", "  "}, errField: "fiscal_code", errMsg: "Manca il codice fiscale"},
		{name: "wrong check character", set: []string{"fiscal_code", "RSSMRA85T10A562T"}, errField: "fiscal_code", errMsg: "carattere di controllo"},
		{name: "transposed digits", set: []string{"fiscal_code", "RSSMRA58T10A562S"}, errField: "fiscal_code", errMsg: "carattere di controllo"},
		{name: "wrong month letter", set: []string{"fiscal_code", accCheckChar("RSSMRA85F10A562")}, errField: "fiscal_code", errMsg: "lettera del mese"},
		{name: "day 32", set: []string{"fiscal_code", accCheckChar("RSSMRA85T32A562")}, errField: "fiscal_code", errMsg: "giorno di nascita non valido"},
		{name: "day 72", set: []string{"fiscal_code", accCheckChar("RSSMRA85T72A562")}, errField: "fiscal_code", errMsg: "giorno di nascita non valido"},
		{name: "30 February", set: []string{"fiscal_code", accCheckChar("RSSMRA85B30A562")}, errField: "fiscal_code", errMsg: "giorno di nascita non valido"},
		{name: "15 characters", set: []string{"fiscal_code", "RSSMRA85T10A562"}, errField: "fiscal_code", errMsg: "16 caratteri"},
		{name: "17 characters", set: []string{"fiscal_code", rossiCF + "X"}, errField: "fiscal_code", errMsg: "16 caratteri"},
		{name: "digit where a letter belongs", set: []string{"fiscal_code", "R5SMRA85T10A562S"}, errField: "fiscal_code", errMsg: "forma corretta"},
		{name: "birth date differs from code", set: []string{"birth_date", "1985-12-11"}, errField: "birth_date", errMsg: "non corrisponde al codice fiscale (che indica il 10/12/…85)"},
		{name: "birth year differs from code", set: []string{"birth_date", "1986-12-10"}, errField: "birth_date", errMsg: "non corrisponde al codice fiscale"},
		{name: "sex F for a man's code", set: []string{"sex", "F"}, errField: "sex", errMsg: "sesso non corrisponde al codice fiscale"},
		{name: "sex M for a woman's code", set: []string{"fiscal_code", maria, "first_name", "Maria", "sex", "M"}, errField: "sex", errMsg: "sesso non corrisponde al codice fiscale"},
		{name: "sex left empty is read from the code", set: []string{"sex", ""}, wantCF: rossiCF, wantSex: "M"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t)
			c := a.deskClient()
			form := accWith(a.acceptForm(), tt.set...)
			if tt.errField == "" {
				accSlip(t, c, form)
				p := patientByCF(t, a, tt.wantCF)
				if p.FiscalCode != tt.wantCF || p.Sex != tt.wantSex {
					t.Errorf("stored patient: got %s sex %s, want %s sex %s", p.FiscalCode, p.Sex, tt.wantCF, tt.wantSex)
				}
				if got, want := p.BirthDate.UTC().Format(time.DateOnly), "1985-12-10"; got != want {
					t.Errorf("stored birth date: got %s, want %s", got, want)
				}
				if got := authCount(t, a, "SELECT count(*) FROM patients"); got != 1 {
					t.Errorf("patients: got %d, want 1", got)
				}
				return
			}
			doc := accRefused(t, c, form)
			errs := accFieldErrors(doc)
			got, ok := errs["e-"+tt.errField]
			if !ok || !strings.Contains(got, tt.errMsg) {
				t.Errorf("#e-%s: got %q, want it to contain %q (all errors: %v)", tt.errField, got, tt.errMsg, errs)
			}
			if len(errs) != 1 {
				t.Errorf("field errors: got %v, want only #e-%s", errs, tt.errField)
			}
			if inv, _ := doc.Find("#f-" + tt.errField).Attr("aria-invalid"); tt.errField != "sex" && inv != "true" {
				t.Errorf("#f-%s aria-invalid: got %q, want true", tt.errField, inv)
			}
			accNoRows(t, a)
		})
	}
}

// The mismatch message shows the year encoded in the code as two digits, as
// the code itself does: a 2005 birth must read "…05", not "…5".
func TestAcceptFiscalCodeBirthDateMessageTwoDigitYear(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	cf, err := codicefiscale.Generate("Verdi", "Luca", time.Date(2005, 3, 4, 0, 0, 0, 0, time.UTC), "M", "F205")
	if err != nil {
		t.Fatal(err)
	}
	doc := accRefused(t, c, accWith(a.acceptForm(), "fiscal_code", cf, "first_name", "Luca", "last_name", "Verdi",
		"birth_date", "2005-03-05"))
	got := strings.TrimSpace(doc.Find("#e-birth_date").Text())
	if want := "(che indica il 04/03/…05)"; !strings.Contains(got, want) {
		t.Errorf("#e-birth_date: got %q, want it to contain %q", got, want)
	}
	if doc.Find("#e-fiscal_code").Length() != 0 {
		t.Errorf("fiscal_code has an error: %q", doc.Find("#e-fiscal_code").Text())
	}
	accNoRows(t, a)
}

func TestAcceptMobile(t *testing.T) {
	tests := []struct {
		name, mobile string
		want         string // stored E.164; "" when refused
		errMsg       string
	}{
		{name: "national with spaces", mobile: "333 123 4567", want: "+393331234567"},
		{name: "plus 39", mobile: "+39 333 1234567", want: "+393331234567"},
		{name: "0039", mobile: "0039 3331234567", want: "+393331234567"},
		{name: "landline", mobile: "02 1234 5678", errMsg: "non è un cellulare"},
		{name: "garbage", mobile: "chiamare la figlia", errMsg: "Numero di cellulare non valido"},
		{name: "too short", mobile: "333 12", errMsg: "Numero di cellulare non valido"},
		{name: "empty", mobile: " ", errMsg: "Manca il numero di cellulare"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t)
			c := a.deskClient()
			form := accWith(a.acceptForm(), "mobile", tt.mobile)
			if tt.want != "" {
				accSlip(t, c, form)
				if got := patientByCF(t, a, rossiCF).Mobile; got != tt.want {
					t.Errorf("stored mobile for %q: got %q, want %q", tt.mobile, got, tt.want)
				}
				return
			}
			doc := accRefused(t, c, form)
			errs := accFieldErrors(doc)
			if got := errs["e-mobile"]; !strings.Contains(got, tt.errMsg) {
				t.Errorf("#e-mobile for %q: got %q, want it to contain %q", tt.mobile, got, tt.errMsg)
			}
			if len(errs) != 1 {
				t.Errorf("field errors: got %v, want only #e-mobile", errs)
			}
			if got := doc.Find("#f-mobile").AttrOr("value", ""); got != tt.mobile {
				t.Errorf("mobile input keeps the typed value: got %q, want %q", got, tt.mobile)
			}
			accNoRows(t, a)
		})
	}
}

func TestAcceptEmailExamsFacility(t *testing.T) {
	tests := []struct {
		name string
		// form builds the submission; it may set up the app first.
		form             func(t *testing.T, a *app) url.Values
		errField, errMsg string
	}{
		{name: "email without domain", errField: "email", errMsg: "Indirizzo email non valido",
			form: func(t *testing.T, a *app) url.Values { return accWith(a.acceptForm(), "email", "mario.rossi@") }},
		{name: "email with display name", errField: "email", errMsg: "Indirizzo email non valido",
			form: func(t *testing.T, a *app) url.Values {
				return accWith(a.acceptForm(), "email", "Mario Rossi <mario.rossi@example.it>")
			}},
		{name: "email with two at signs", errField: "email", errMsg: "Indirizzo email non valido",
			form: func(t *testing.T, a *app) url.Values { return accWith(a.acceptForm(), "email", "mario@@example.it") }},
		{name: "exams missing", errField: "exams", errMsg: "almeno un esame",
			form: func(t *testing.T, a *app) url.Values { return accWith(a.acceptForm(), "exams", "") }},
		{name: "exams only blank lines", errField: "exams", errMsg: "almeno un esame",
			form: func(t *testing.T, a *app) url.Values { return accWith(a.acceptForm(), "exams", " \r\n\t\n  ") }},
		{name: "facility missing", errField: "facility", errMsg: "Scegli una struttura",
			form: func(t *testing.T, a *app) url.Values { return accWith(a.acceptForm(), "facility", "") }},
		{name: "facility unknown", errField: "facility", errMsg: "Scegli una struttura",
			form: func(t *testing.T, a *app) url.Values { return accWith(a.acceptForm(), "facility", "9999") }},
		{name: "facility disabled", errField: "facility", errMsg: "Scegli una struttura",
			form: func(t *testing.T, a *app) url.Values {
				t.Helper()
				ctx := context.Background()
				cli := db.Actor{Kind: "cli", Name: "test"}
				id, err := a.db.CreateFacility(ctx, db.Facility{Code: "CR", Name: "Sede chiusa", Address: "Via Chiusa 2"}, cli, a.Now())
				if err != nil {
					t.Fatal(err)
				}
				if err := a.db.SetFacilityActive(ctx, id, false, cli, a.Now()); err != nil {
					t.Fatal(err)
				}
				return accWith(a.acceptForm(), "facility", fmt.Sprint(id))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t)
			c := a.deskClient()
			doc := accRefused(t, c, tt.form(t, a))
			if tt.errField == "facility" {
				// The facility select renders its error by hand, next to the select.
				sel := doc.Find("select#f-facility")
				if inv := sel.AttrOr("aria-invalid", ""); inv != "true" {
					t.Errorf("select#f-facility aria-invalid: got %q, want true", inv)
				}
				if got := strings.TrimSpace(sel.Parent().Find(".field-error").Text()); !strings.Contains(got, tt.errMsg) {
					t.Errorf("facility error: got %q, want it to contain %q", got, tt.errMsg)
				}
				if n := doc.Find(".field-error").Length(); n != 1 {
					t.Errorf("field errors: got %d (%v), want only the facility's", n, accFieldErrors(doc))
				}
			} else {
				errs := accFieldErrors(doc)
				if got := errs["e-"+tt.errField]; !strings.Contains(got, tt.errMsg) {
					t.Errorf("#e-%s: got %q, want it to contain %q", tt.errField, got, tt.errMsg)
				}
				if len(errs) != 1 {
					t.Errorf("field errors: got %v, want only #e-%s", errs, tt.errField)
				}
			}
			if got := doc.Find("#f-fiscal_code").AttrOr("value", ""); got != rossiCF {
				t.Errorf("refused form keeps the codice fiscale: got %q, want %q", got, rossiCF)
			}
			accNoRows(t, a)
		})
	}
}

func TestAcceptEmailStoredLowercase(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	accSlip(t, c, accWith(a.acceptForm(), "email", "Mario.Rossi@Example.IT"))
	if got, want := patientByCF(t, a, rossiCF).Email, "mario.rossi@example.it"; got != want {
		t.Errorf("stored email: got %q, want %q", got, want)
	}
}

func TestAcceptPatientUpsert(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	ctx := context.Background()
	v1, _ := c.accept(a.acceptForm())
	a.advance(time.Hour)
	v2, _ := c.accept(accWith(a.acceptForm(), "mobile", "+39 333 1234567")) // same number, typed differently

	if got := authCount(t, a, "SELECT count(*) FROM patients"); got != 1 {
		t.Fatalf("patients after two acceptances of one CF: got %d, want 1", got)
	}
	p := patientByCF(t, a, rossiCF)
	visits, err := a.db.PatientVisits(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(visits) != 2 || visits[0].ID != v2 || visits[1].ID != v1 {
		t.Fatalf("patient visits: got %v, want [%d %d]", visits, v2, v1)
	}
	changes := a.auditActions(db.AuditFilter{Action: "patient.contact_change"})
	if len(changes) != 0 {
		t.Errorf("unchanged second acceptance wrote contact_change: %+v", changes)
	}

	a.advance(time.Hour)
	c.accept(accWith(a.acceptForm(), "mobile", "347 765 4321"))
	if got := authCount(t, a, "SELECT count(*) FROM patients"); got != 1 {
		t.Fatalf("patients after a changed acceptance: got %d, want 1", got)
	}
	if got, want := patientByCF(t, a, rossiCF).Mobile, "+393477654321"; got != want {
		t.Errorf("mobile after change: got %q, want %q", got, want)
	}
	changes = a.auditActions(db.AuditFilter{Action: "patient.contact_change"})
	if len(changes) != 1 {
		t.Fatalf("contact_change events: got %d, want 1", len(changes))
	}
	ev := changes[0]
	if ev.ObjectType != "patient" || ev.ObjectID != p.ID {
		t.Errorf("contact_change object: got %s/%d, want patient/%d", ev.ObjectType, ev.ObjectID, p.ID)
	}
	if !strings.Contains(ev.Detail, "mobile") {
		t.Errorf("contact_change detail %q does not name the mobile field", ev.Detail)
	}
	for _, number := range []string{"3331234567", "3477654321", "333 123 4567", "347 765 4321", "4567", "4321"} {
		if strings.Contains(ev.Detail, number) {
			t.Errorf("contact_change detail %q reveals the number %q", ev.Detail, number)
		}
	}
	if ev.Actor.Name != receptionUser {
		t.Errorf("contact_change actor: got %q, want %q", ev.Actor.Name, receptionUser)
	}
}

func TestAccessionNumbers(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	ctx := context.Background()
	cli := db.Actor{Kind: "cli", Name: "test"}
	crID, err := a.db.CreateFacility(ctx, db.Facility{Code: "CR", Name: "Poliambulatorio Cremona", Address: "Via Po 3, Cremona"}, cli, a.Now())
	if err != nil {
		t.Fatal(err)
	}
	mn := fmt.Sprint(a.facilityID)
	cr := fmt.Sprint(crID)

	steps := []struct {
		name     string
		clock    time.Time // zero: keep
		facility string
		want     string
	}{
		{name: "first visit", facility: mn, want: "MN-2026-00001"},
		{name: "next visit same facility", facility: mn, want: "MN-2026-00002"},
		{name: "other facility starts at 1", facility: cr, want: "CR-2026-00001"},
		{name: "first facility continues", facility: mn, want: "MN-2026-00003"},
		{name: "new year restarts", clock: time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC), facility: mn, want: "MN-2027-00001"},
		{name: "new year continues", facility: mn, want: "MN-2027-00002"},
		{name: "other facility new year", facility: cr, want: "CR-2027-00001"},
	}
	seen := map[int64]bool{}
	for _, s := range steps {
		if !s.clock.IsZero() {
			accSetClock(a, s.clock)
		}
		id, _, _, doc := accSlip(t, c, accWith(a.acceptForm(), "facility", s.facility))
		if seen[id] {
			t.Fatalf("%s: visit %d reused", s.name, id)
		}
		seen[id] = true
		if got := accVisit(t, a, id).AccessionNumber(); got != s.want {
			t.Errorf("%s: accession number got %s, want %s", s.name, got, s.want)
		}
		if got := doc.Find(".slip").Text(); !strings.Contains(got, s.want) {
			t.Errorf("%s: slip does not show %s", s.name, s.want)
		}
	}
}

// Accession years follow the calendar the desk and the slip use (Rome): at
// 00:30 on 1 January in Rome it is still 31 December in UTC.
func TestAccessionYearFollowsRomeCalendar(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	if id, _ := c.accept(a.acceptForm()); accVisit(t, a, id).AccessionNumber() != "MN-2026-00001" {
		t.Fatalf("first visit: got %s, want MN-2026-00001", accVisit(t, a, id).AccessionNumber())
	}
	accSetClock(a, time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)) // 01/01/2027 00:30 in Rome
	id, _, _, doc := accSlip(t, c, a.acceptForm())
	slip := doc.Find(".slip").Text()
	if !strings.Contains(slip, "01/01/2027") {
		t.Fatalf("slip date: want 01/01/2027 in %q", slip)
	}
	if got, want := accVisit(t, a, id).AccessionNumber(), "MN-2027-00001"; got != want {
		t.Errorf("accession number of a visit on 01/01/2027 (Rome): got %s, want %s", got, want)
	}
}

func TestAcceptOnlineDeclined(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	rec := c.postAccept(accWith(a.acceptForm(), "online_declined", "1"))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("declined acceptance: status %d, want 303\n%s", rec.Code, rec.Body.String())
	}
	visits, err := a.db.RecentVisits(context.Background(), 1)
	if err != nil || len(visits) != 1 {
		t.Fatalf("visits after declined acceptance: %v %v", visits, err)
	}
	id := visits[0].ID
	if got, want := rec.Header().Get("Location"), fmt.Sprintf("/desk/visits/%d", id); got != want {
		t.Errorf("Location: got %q, want %q", got, want)
	}
	if codePattern.MatchString(rec.Body.String()) {
		t.Error("declined acceptance response shows an activation code")
	}

	v := accVisit(t, a, id)
	if !v.OnlineDeclined {
		t.Error("visit not marked online_declined")
	}
	if v.CodeActive(a.Now()) {
		t.Error("declined visit has an active code")
	}
	if got := authCount(t, a, "SELECT count(*) FROM activation_codes"); got != 0 {
		t.Errorf("activation codes for a declined visit: got %d, want 0", got)
	}
	events := a.auditActions(db.AuditFilter{ObjectType: "visit", ObjectID: id})
	accepts := withAction(events, "visit.accept")
	if len(accepts) != 1 || !strings.Contains(accepts[0].Detail, "declined") {
		t.Errorf("visit.accept events: got %+v, want one whose detail mentions declined", accepts)
	}
	if n := len(withAction(events, "code.issue")); n != 0 {
		t.Errorf("code.issue events for a declined visit: got %d, want 0", n)
	}

	page := c.get(rec.Header().Get("Location"))
	if page.Code != http.StatusOK {
		t.Fatalf("visit page: status %d", page.Code)
	}
	doc := parseHTML(t, page.Body.String())
	text := doc.Find("main").Text()
	for _, want := range []string{"rifiutato la consegna online", "carta", v.AccessionNumber()} {
		if !strings.Contains(text, want) {
			t.Errorf("visit page does not mention %q", want)
		}
	}
	if n := doc.Find("input[type=file]").Length(); n != 0 {
		t.Errorf("file inputs on a paper-only visit: got %d, want 0", n)
	}
	if n := doc.Find(`form[enctype="multipart/form-data"]`).Length(); n != 0 {
		t.Errorf("upload forms on a paper-only visit: got %d, want 0", n)
	}
}

func TestAcceptOnlineVisitPageHasUploadForm(t *testing.T) {
	// Counterpart of the declined case, so its "no upload form" check means something.
	a := newApp(t)
	c := a.deskClient()
	id, _ := c.accept(a.acceptForm())
	doc := parseHTML(t, c.get(fmt.Sprintf("/desk/visits/%d", id)).Body.String())
	if doc.Find("input[type=file]").Length() == 0 {
		t.Error("visit with online delivery has no file input")
	}
	if strings.Contains(doc.Text(), "rifiutato la consegna online") {
		t.Error("visit with online delivery shows the paper-only message")
	}
}

func TestAcceptFormPrefill(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	c.accept(accWith(a.acceptForm(), "email", "mario.rossi@example.it"))
	p := patientByCF(t, a, rossiCF)

	rec := c.get(fmt.Sprintf("/desk/accept?patient=%d", p.ID))
	if rec.Code != http.StatusOK {
		t.Fatalf("prefilled form: status %d", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	for field, want := range map[string]string{
		"fiscal_code": rossiCF, "first_name": "Mario", "last_name": "Rossi", "birth_date": "1985-12-10",
		"birth_place": "San Giuliano Terme", "email": "mario.rossi@example.it",
	} {
		if got := doc.Find("#f-"+field).AttrOr("value", ""); got != want {
			t.Errorf("prefilled %s: got %q, want %q", field, got, want)
		}
	}
	mobile := doc.Find("#f-mobile").AttrOr("value", "")
	if digits := strings.NewReplacer(" ", "", "+39", "").Replace(mobile); digits != "3331234567" {
		t.Errorf("prefilled mobile: got %q, want 333 123 4567", mobile)
	}
	if doc.Find(`input[name=sex][value=M][checked]`).Length() != 1 || doc.Find(`input[name=sex][value=F][checked]`).Length() != 0 {
		t.Error("prefilled sex: want M checked")
	}
	if doc.Find(".field-error").Length() != 0 {
		t.Errorf("prefilled form shows errors: %v", accFieldErrors(doc))
	}

	// An empty form has no values.
	empty := parseHTML(t, c.get("/desk/accept").Body.String())
	if got := empty.Find("#f-fiscal_code").AttrOr("value", ""); got != "" {
		t.Errorf("new form fiscal_code: got %q, want empty", got)
	}
	if rec := c.get("/desk/accept?patient=9999"); rec.Code != http.StatusNotFound {
		t.Errorf("prefill of an unknown patient: status %d, want 404", rec.Code)
	}
}

func TestAcceptAudit(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	for i := range 2 {
		id, code := c.accept(a.acceptForm())
		events := a.auditActions(db.AuditFilter{ObjectType: "visit", ObjectID: id})
		for _, action := range []string{"visit.accept", "code.issue"} {
			found := withAction(events, action)
			if len(found) != 1 {
				t.Errorf("acceptance %d: %s events got %d, want 1 (all: %v)", i+1, action, len(found), accActions(events))
				continue
			}
			e := found[0]
			if e.Actor.Kind != "staff" || e.Actor.Name != receptionUser || e.Actor.ID != a.deskID || e.Actor.IP != "192.0.2.10" {
				t.Errorf("acceptance %d: %s actor got %+v, want staff %q (#%d) from 192.0.2.10", i+1, action, e.Actor, receptionUser, a.deskID)
			}
			if e.Outcome != db.OutcomeOK {
				t.Errorf("acceptance %d: %s outcome got %q, want ok", i+1, action, e.Outcome)
			}
			if strings.Contains(e.Detail, code) || strings.Contains(e.Detail, actcode.Normalize(code)) {
				t.Errorf("acceptance %d: %s detail contains the code", i+1, action)
			}
		}
		a.advance(time.Minute)
	}
	p := patientByCF(t, a, rossiCF)
	if n := len(a.auditActions(db.AuditFilter{Action: "patient.create", ObjectType: "patient", ObjectID: p.ID})); n != 1 {
		t.Errorf("patient.create events: got %d, want 1", n)
	}
}
