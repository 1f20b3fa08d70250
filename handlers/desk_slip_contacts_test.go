package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fse/db"
)

// Tests of what the pickup slip tells a patient at home: the mobile
// registered (masked), the code's expiry, and the help, data controller's
// and DPO's contacts an admin sets.

var dwContacts = url.Values{
	"help_phone": {"0376 123456"},
	"help_email": {"Referti@Poliambulatorio.example.it"},
	"controller": {"Poliambulatorio Test Srl, Via Roma 1, 46100 Mantova, privacy@poliambulatorio.example.it"},
	"dpo":        {"Studio DPO, dpo@poliambulatorio.example.it"},
}

func TestTheSlipShowsTheMaskedMobileTheExpiryAndTheContactsAdminsSet(t *testing.T) {
	a := newApp(t)
	admin := a.adminClient()
	if rec := admin.post("/desk/admin/slip", dwContacts); rec.Code != http.StatusSeeOther {
		t.Fatalf("save contacts: status %d\n%s", rec.Code, rec.Body.String())
	}
	_, _, rec, doc := accSlip(t, a.deskClient(), a.acceptForm())
	text := func(sel string) string { return strings.Join(strings.Fields(doc.Find(sel).Text()), " ") }

	// Mario Rossi's mobile is 333 123 4567; the code lives 90 days from
	// the acceptance when nothing is published yet.
	if got, want := text("[data-testid=slip-mobile]"), "••• ••• 4567"; got != want {
		t.Errorf("slip mobile: got %q, want %q", got, want)
	}
	if strings.Contains(rec.Body.String(), "123 4567") || strings.Contains(rec.Body.String(), "1234567") {
		t.Error("the slip shows the whole mobile number")
	}
	wantExpiry := a.Now().Add(db.ActivationCodeLifetime).In(db.Rome).Format("02/01/2006")
	if got := text("[data-testid=slip-expiry]"); !strings.Contains(got, "Valido fino al "+wantExpiry) || !strings.Contains(got, "••• ••• 4567") {
		t.Errorf("slip expiry: got %q, want the date %s and the masked mobile", got, wantExpiry)
	}
	for sel, want := range map[string]string{
		"[data-testid=slip-help]":       "tel. 0376 123456 · referti@poliambulatorio.example.it",
		"[data-testid=slip-controller]": "Titolare del trattamento dei dati: Poliambulatorio Test Srl, Via Roma 1, 46100 Mantova",
		"[data-testid=slip-dpo]":        "Responsabile della protezione dei dati (DPO): Studio DPO, dpo@poliambulatorio.example.it",
	} {
		if got := text(sel); !strings.Contains(got, want) {
			t.Errorf("%s: got %q, want it to contain %q", sel, got, want)
		}
	}
	if doc.Find("article.slip footer [data-testid=slip-dpo]").Length() != 1 {
		t.Error("the DPO's contacts are not in the slip's footer")
	}
	if doc.Find("[data-testid=slip-contacts-missing]").Length() != 0 {
		t.Error("the slip warns of missing contacts that are set")
	}
	// The page's own CSP blocks inline styles: the slip has none.
	if n := doc.Find("[style]").Length(); n != 0 {
		t.Errorf("the slip page has %d elements with a style attribute", n)
	}
}

func TestTheSlipWarnsTheDeskWhenThePrivacyContactsAreMissing(t *testing.T) {
	a := newApp(t)
	_, _, _, doc := accSlip(t, a.deskClient(), a.acceptForm())
	if doc.Find(".no-print[data-testid=slip-contacts-missing]").Length() != 1 {
		t.Error("no screen-only warning that the controller's and DPO's contacts are missing")
	}
	for _, sel := range []string{"[data-testid=slip-help]", "[data-testid=slip-controller]", "[data-testid=slip-dpo]"} {
		if doc.Find(sel).Length() != 0 {
			t.Errorf("%s printed while empty", sel)
		}
	}
}

func TestSlipContactsAreCheckedAndOnlyAdminsSetThem(t *testing.T) {
	a := newApp(t)
	admin := a.adminClient()
	bad := url.Values{"help_email": {"non-una-email"}, "dpo": {strings.Repeat("x", db.MaxSlipContactLen+1)}}
	rec := admin.post("/desk/admin/slip", bad)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("invalid contacts: status %d, want 422", rec.Code)
	}
	errs := accFieldErrors(parseHTML(t, rec.Body.String()))
	if !strings.Contains(errs["e-help_email"], "email non valido") || !strings.Contains(errs["e-dpo"], "Al massimo 300 caratteri") {
		t.Errorf("field errors: %v", errs)
	}
	if got := rec.Body.String(); !strings.Contains(got, "Mancano i contatti del titolare") {
		t.Error("the page does not warn that the slip lacks the privacy contacts")
	}

	if rec := a.deskClient().post("/desk/admin/slip", dwContacts); rec.Code != http.StatusForbidden {
		t.Errorf("receptionist saving contacts: status %d, want 403", rec.Code)
	}
	if rec := admin.post("/desk/admin/slip", dwContacts); rec.Code != http.StatusSeeOther {
		t.Fatalf("save: status %d", rec.Code)
	}
	page := parseHTML(t, admin.get("/desk/admin/slip").Body.String())
	if got, _ := page.Find("#f-help_email").Attr("value"); got != "referti@poliambulatorio.example.it" {
		t.Errorf("saved help email shown as %q, want it in lower case", got)
	}
	if got := a.auditActions(db.AuditFilter{Action: db.ActionSlipContacts}); len(got) != 1 || got[0].Actor.Name != adminUser {
		t.Errorf("audit of the change: %+v, want one by %s", got, adminUser)
	}
}
