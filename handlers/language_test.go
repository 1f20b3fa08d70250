package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The landing page speaks Italian by default, English to a browser that
// prefers English, and whatever the visitor chose with the link after
// that, whatever the browser says.
func TestLanguageFollowsTheChoiceThenTheBrowser(t *testing.T) {
	a := newApp(t)
	c := a.client()
	if body := c.get("/").Body.String(); !strings.Contains(body, `<html lang="it">`) || !strings.Contains(body, ">English</a>") {
		t.Fatalf("default page is not Italian with an English link")
	}
	c.header.Set("Accept-Language", "en-GB,en;q=0.9")
	if body := c.get("/").Body.String(); !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, ">Italiano</a>") {
		t.Fatalf("an English browser did not get English")
	}
	rec := c.get("/lingua/it?torna=/informativa")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/informativa" {
		t.Fatalf("switch: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	chosen := c.cookies["fse_lang"]
	if chosen == nil || chosen.Value != "it" || chosen.MaxAge < 300*24*3600 || !chosen.HttpOnly {
		t.Fatalf("language cookie = %+v", chosen)
	}
	if body := c.get("/").Body.String(); !strings.Contains(body, `<html lang="it">`) {
		t.Fatalf("the chosen Italian did not win over the English browser")
	}
}

func TestLanguageSwitchNeverLeavesTheSite(t *testing.T) {
	a := newApp(t)
	c := a.client()
	for _, back := range []string{"//evil.example/x", "https://evil.example", "/\\evil.example", "",
		"/%09/evil.example", "/%0A/evil.example", "/%0D%0A/evil.example", "/%7F/evil.example"} {
		rec := c.get("/lingua/en?torna=" + back)
		if loc := rec.Header().Get("Location"); loc != "/" {
			t.Errorf("torna=%q went to %q", back, loc)
		}
	}
	if rec := c.get("/lingua/de"); rec.Code != http.StatusNotFound {
		t.Errorf("an unknown language gave %d", rec.Code)
	}
}

// A logged-in patient's choice is kept on the account, so that another
// browser (without the cookie) and the SMS and emails follow it.
func TestTheLanguageChosenLoggedInBecomesTheAccounts(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "")
	c.get("/lingua/en?torna=/fascicolo")
	other := a.loginPatient("3331234567")
	if body := other.get("/attiva").Body.String(); !strings.Contains(body, `<html lang="en">`) {
		t.Fatal("another browser of the account is not in English")
	}
	if got := authCount(t, a, `SELECT count(*) FROM accounts WHERE lang = 'en'`); got != 1 {
		t.Fatalf("%d English accounts, want 1", got)
	}
}

// Registering in English makes an English account.
func TestRegisteringInEnglishMakesAnEnglishAccount(t *testing.T) {
	a := newApp(t)
	c := a.client()
	c.header.Set("Accept-Language", "en")
	en := a.registerWith(c, "Anna", "Smith", "333 7654321", "")
	if body := en.get("/attiva").Body.String(); !strings.Contains(body, `<html lang="en">`) {
		t.Fatal("the new account's pages are not English")
	}
	if got := authCount(t, a, `SELECT count(*) FROM accounts WHERE lang = 'en'`); got != 1 {
		t.Fatalf("%d English accounts, want 1", got)
	}
}

// The desk stays Italian for a browser that prefers English.
func TestDeskPagesStayItalian(t *testing.T) {
	a := newApp(t)
	c := a.client()
	c.header.Set("Accept-Language", "en")
	if body := c.get("/desk/login").Body.String(); !strings.Contains(body, `<html lang="it">`) {
		t.Fatal("the desk login page is not Italian")
	}
}

// TestTheLanguageSwitchComesBackToTheSameAddress: the link keeps the
// page's query (a confirmation link's token, the dossier shown).
func TestTheLanguageSwitchComesBackToTheSameAddress(t *testing.T) {
	a := newApp(t)
	c := a.client()
	for _, page := range []string{"/verifica-email?t=abc123", "/aiuto?x=1"} {
		doc := parseHTML(t, c.get(page).Body.String())
		href := doc.Find(`[data-testid=switch-language]`).AttrOr("href", "")
		if want := "/lingua/en?torna=" + url.QueryEscape(page); href != want {
			t.Errorf("%s: language link %q, want %q", page, href, want)
		}
	}
}
