package handlers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/sealbox"
)

// Tests of the activation code on the slip: how it is printed, that it is
// never leaked or stored in clear, and its replacement by a reprint.

// accCode looks an activation code up by its MAC, as activation does.
func accCode(t *testing.T, a *app, code string) db.CodeStatus {
	t.Helper()
	st, err := a.db.CodeByMAC(context.Background(), a.keys.MAC(sealbox.ActivationCode, actcode.Normalize(code)))
	if err != nil {
		t.Fatalf("code %s by MAC: %v", code, err)
	}
	return st
}

func TestAcceptSlip(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	ctx := context.Background()
	acceptedAt := a.Now()
	visitID, code, rec, doc := accSlip(t, c, a.acceptForm())
	body := rec.Body.String()

	if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "no-store") {
		t.Errorf("Cache-Control: got %q, want no-store", got)
	}
	if n := doc.Find("[data-testid=activation-code]").Length(); n != 1 {
		t.Errorf("activation code elements: got %d, want 1", n)
	}

	// The QR is inline SVG: nothing is fetched from elsewhere to draw it.
	svg := doc.Find(".slip svg")
	if svg.Length() != 1 {
		t.Fatalf("inline <svg> QR in the slip: got %d, want 1", svg.Length())
	}
	if !strings.Contains(body, "<svg") {
		t.Error("body has no <svg")
	}
	if n := doc.Find("img").Length(); n != 0 {
		t.Errorf("<img> elements: got %d, want 0", n)
	}
	svgHTML, err := goquery.OuterHtml(svg)
	if err != nil {
		t.Fatal(err)
	}
	svgHTML = strings.ReplaceAll(svgHTML, `xmlns="http://www.w3.org/2000/svg"`, "")
	for _, bad := range []string{"http", "href", "<image", "url("} {
		if strings.Contains(svgHTML, bad) {
			t.Errorf("QR svg references something external (%q)", bad)
		}
	}

	slip := doc.Find(".slip").Text()
	v := accVisit(t, a, visitID)
	for _, want := range []string{
		"Rossi Mario", "Poliambulatorio Test", "Via Roma 1, Mantova", v.AccessionNumber(), "MN-2026-00001",
		"Emocromo", "Glicemia", "60 giorni", "carta", "10/03/2026", "https://referti.example.it",
	} {
		if !strings.Contains(slip, want) {
			t.Errorf("slip does not mention %q", want)
		}
	}

	// The code never travels in a query string.
	norm := actcode.Normalize(code)
	if strings.Contains(body, "?codice=") {
		t.Error(`slip contains "?codice="`)
	}
	for _, cd := range []string{code, norm} {
		if regexp.MustCompile(`\?[^\s"'<>]*` + regexp.QuoteMeta(cd)).MatchString(body) {
			t.Errorf("slip has the code %s after a '?'", cd)
		}
		for name, values := range rec.Header() {
			for _, hv := range values {
				if strings.Contains(hv, cd) {
					t.Errorf("response header %s carries the code", name)
				}
			}
		}
		if strings.Contains(a.logs.String(), cd) {
			t.Errorf("server logs contain the code %s", cd)
		}
	}

	// Only a MAC is stored: the database files never hold the code.
	for _, path := range []string{a.db.Path, a.db.Path + "-wal"} {
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) && path != a.db.Path {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, cd := range []string{code, norm} {
			if bytes.Contains(data, []byte(cd)) {
				t.Errorf("%s contains the plaintext code %s", path, cd)
			}
		}
	}

	// The printed code works.
	st := accCode(t, a, code)
	if st.VisitID != visitID || st.PatientID != patientByCF(t, a, rossiCF).ID {
		t.Errorf("code belongs to visit %d patient %d, want visit %d", st.VisitID, st.PatientID, visitID)
	}
	if !st.Usable(a.Now()) {
		t.Errorf("new code not usable: %+v", st)
	}
	if want := acceptedAt.Add(90 * 24 * time.Hour); !st.ExpiresAt.Equal(want) {
		t.Errorf("code expiry: got %s, want %s (90 days after acceptance)", st.ExpiresAt, want)
	}
	if !v.CodeActive(a.Now()) {
		t.Error("visit has no active code after acceptance")
	}
	if _, err := a.db.CodeByMAC(ctx, a.keys.MAC(sealbox.ActivationCode, actcode.Normalize(actcode.New()))); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("a random code: got %v, want ErrNotFound", err)
	}
}

func TestReprint(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	id, oldCode := c.accept(a.acceptForm())
	a.advance(2 * time.Hour)

	rec := c.post(fmt.Sprintf("/desk/visits/%d/reprint", id), url.Values{})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("reprint: status %d, want 303 to the slip\n%s", rec.Code, rec.Body.String())
	}
	rec = c.follow(rec)
	if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "no-store") {
		t.Errorf("reprint Cache-Control: got %q, want no-store", got)
	}
	doc := parseHTML(t, rec.Body.String())
	newCode := strings.TrimSpace(doc.Find("[data-testid=activation-code]").Text())
	if !accCodeExact.MatchString(newCode) {
		t.Fatalf("reprinted slip code = %q", newCode)
	}
	if newCode == oldCode {
		t.Fatalf("reprint showed the old code %s again", oldCode)
	}
	if got := doc.Find(".slip").Text(); !strings.Contains(got, "MN-2026-00001") {
		t.Error("reprinted slip does not show the accession number")
	}

	old := accCode(t, a, oldCode)
	if old.RevokedAt.IsZero() || old.Usable(a.Now()) {
		t.Errorf("old code after reprint: revoked %v usable %v, want revoked and unusable", old.RevokedAt, old.Usable(a.Now()))
	}
	fresh := accCode(t, a, newCode)
	if fresh.VisitID != id || !fresh.Usable(a.Now()) {
		t.Errorf("new code: visit %d usable %v, want visit %d usable", fresh.VisitID, fresh.Usable(a.Now()), id)
	}
	if !accVisit(t, a, id).CodeActive(a.Now()) {
		t.Error("visit has no active code after reprint")
	}

	events := a.auditActions(db.AuditFilter{ObjectType: "visit", ObjectID: id})
	got := strings.Join(accActions(events), " ")
	if want := "visit.accept code.issue code.revoke code.reprint"; got != want {
		t.Errorf("visit audit: got %q, want %q", got, want)
	}
	for _, e := range events {
		if strings.Contains(e.Detail, oldCode) || strings.Contains(e.Detail, newCode) {
			t.Errorf("audit %s detail %q contains a code", e.Action, e.Detail)
		}
	}
	if strings.Contains(a.logs.String(), newCode) {
		t.Error("server logs contain the reprinted code")
	}
}

func TestReprintNotFound(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	c.accept(a.acceptForm())
	before := authCount(t, a, "SELECT count(*) FROM activation_codes")
	for _, path := range []string{"/desk/visits/9999/reprint", "/desk/visits/abc/reprint", "/desk/visits/0/reprint", "/desk/visits/-1/reprint"} {
		rec := c.post(path, url.Values{})
		if rec.Code != http.StatusNotFound {
			t.Errorf("POST %s: status %d, want 404", path, rec.Code)
		}
		if codePattern.MatchString(rec.Body.String()) {
			t.Errorf("POST %s shows an activation code", path)
		}
	}
	if got := authCount(t, a, "SELECT count(*) FROM activation_codes"); got != before {
		t.Errorf("activation codes after failed reprints: got %d, want %d", got, before)
	}
}
