package handlers_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// acceptToken loads the acceptance form and returns its one-time token.
func acceptToken(t *testing.T, c *client) string {
	t.Helper()
	token, _ := parseHTML(t, c.get("/desk/accept").Body.String()).Find("input[name=form_token]").Attr("value")
	if token == "" {
		t.Fatal("acceptance form has no token")
	}
	return token
}

func withToken(form url.Values, token string) url.Values {
	form.Set("form_token", token)
	return form
}

// The slip is shown once after the redirect; reloading it shows no code,
// creates nothing and offers a reprint.
func TestReloadingTheSlipNeverCreatesASecondVisit(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	rec := c.post("/desk/accept", withToken(a.acceptForm(), acceptToken(t, c)))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/desk/visits/1/slip" {
		t.Fatalf("accept: %d to %q, want 303 to the slip", rec.Code, rec.Header().Get("Location"))
	}
	if strings.Contains(rec.Body.String(), "activation-code") {
		t.Error("the POST's answer shows the code; it must only redirect")
	}
	first := c.follow(rec)
	code := strings.TrimSpace(parseHTML(t, first.Body.String()).Find("[data-testid=activation-code]").Text())
	if !codePattern.MatchString(code) {
		t.Fatalf("slip code = %q", code)
	}
	if got := first.Header().Get("Cache-Control"); !strings.Contains(got, "no-store") {
		t.Errorf("slip Cache-Control = %q, want no-store", got)
	}

	reload := c.get("/desk/visits/1/slip")
	doc := parseHTML(t, reload.Body.String())
	if reload.Code != http.StatusOK || doc.Find("[data-testid=activation-code]").Length() != 0 || strings.Contains(reload.Body.String(), code) {
		t.Errorf("reloaded slip: %d, shows a code again", reload.Code)
	}
	if doc.Find(`form[action="/desk/visits/1/reprint"] button`).Length() != 1 {
		t.Error("reloaded slip does not offer a reprint")
	}
	if got := authCount(t, a, `SELECT count(*) FROM visits`); got != 1 {
		t.Errorf("visits after a reload = %d, want 1", got)
	}
	if got := authCount(t, a, `SELECT count(*) FROM activation_codes`); got != 1 {
		t.Errorf("codes after a reload = %d, want 1", got)
	}
	// The code lives only in memory for that showing: never in a session row.
	var leaked int
	if err := a.raw.QueryRow(`SELECT count(*) FROM sessions WHERE instr(data, ?) > 0`, code).Scan(&leaked); err != nil || leaked != 0 {
		t.Errorf("sessions holding the code: %d (%v)", leaked, err)
	}
}

// The same form sent twice (a double click, the form sent again) leads to
// the first visit, even when both copies arrive at once.
func TestAcceptanceFormSentTwiceCreatesOneVisit(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	token := acceptToken(t, c)
	var wg sync.WaitGroup
	locations := make([]string, 4)
	for i := range locations {
		wg.Add(1)
		// The same browser session, one connection per copy.
		same := &client{a: a, cookies: maps.Clone(c.cookies), ip: c.ip}
		go func() {
			defer wg.Done()
			rec := same.do(http.MethodPost, "/desk/accept", strings.NewReader(withToken(a.acceptForm(), token).Encode()),
				"application/x-www-form-urlencoded")
			locations[i] = fmt.Sprint(rec.Code, " ", rec.Header().Get("Location"))
		}()
	}
	wg.Wait()
	for _, l := range locations {
		if l != "303 /desk/visits/1/slip" {
			t.Errorf("answer %q, want every copy sent to the one visit's slip", l)
		}
	}
	if got := authCount(t, a, `SELECT count(*) FROM visits`); got != 1 {
		t.Errorf("visits = %d, want 1", got)
	}
	// Whichever answer the browser followed, the code shows once.
	if doc := parseHTML(t, c.get("/desk/visits/1/slip").Body.String()); doc.Find("[data-testid=activation-code]").Length() != 1 {
		t.Error("the slip after a double submission does not show the code")
	}
	// A new form is a new acceptance.
	c.post("/desk/accept", withToken(a.acceptForm(), acceptToken(t, c)))
	if got := authCount(t, a, `SELECT count(*) FROM visits`); got != 2 {
		t.Errorf("visits after a second form = %d, want 2", got)
	}
}

func TestAcceptanceWithoutFormTokenIsRefused(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	rec := c.post("/desk/accept", a.acceptForm())
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "ricarica la pagina") {
		t.Errorf("accept without token: %d, want 400 with a hint", rec.Code)
	}
	if got := authCount(t, a, `SELECT count(*) FROM visits`); got != 0 {
		t.Errorf("visits = %d, want 0", got)
	}
}

// A code is held for the member who asked for it: another desk opening the
// slip's address sees no code, and the first still gets theirs.
func TestSlipCodeIsShownOnlyToTheDeskThatAccepted(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	rec := desk.post("/desk/accept", withToken(a.acceptForm(), acceptToken(t, desk)))
	other := a.adminClient()
	if doc := parseHTML(t, other.follow(rec).Body.String()); doc.Find("[data-testid=activation-code]").Length() != 0 {
		t.Error("another staff member saw the code")
	}
	if doc := parseHTML(t, desk.follow(rec).Body.String()); doc.Find("[data-testid=activation-code]").Length() != 1 {
		t.Error("the accepting desk lost its code")
	}
}

// A reprint, too, shows its new code after a redirect, once.
func TestReprintShowsTheNewCodeOnce(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	id, old := c.accept(a.acceptForm())
	rec := c.post(fmt.Sprintf("/desk/visits/%d/reprint", id), nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("reprint: %d", rec.Code)
	}
	code := strings.TrimSpace(parseHTML(t, c.follow(rec).Body.String()).Find("[data-testid=activation-code]").Text())
	if !codePattern.MatchString(code) || code == old {
		t.Errorf("reprinted code %q (old %q)", code, old)
	}
	if doc := parseHTML(t, c.follow(rec).Body.String()); doc.Find("[data-testid=activation-code]").Length() != 0 {
		t.Error("the reprinted code showed twice")
	}
}
