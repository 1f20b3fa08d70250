package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fse/db"
)

// Helpers shared by the desk tests: staff login and sessions, and
// acceptances.

// authCookieName is the staff session cookie.
const authCookieName = "__Host-fse-desk"

// authSessionToken returns the client's current session cookie value ("" if none).
func authSessionToken(c *client) string {
	if ck := c.cookies[authCookieName]; ck != nil {
		return ck.Value
	}
	return ""
}

// authLoginAttempt posts the login form and returns the response.
func authLoginAttempt(c *client, user, pass string) *httptest.ResponseRecorder {
	c.a.t.Helper()
	return c.post("/desk/login", url.Values{"username": {user}, "password": {pass}})
}

// authWantRedirectToLogin fails unless rec is a 303 to the login page.
func authWantRedirectToLogin(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/desk/login" {
		t.Errorf("%s: got %d Location %q, want 303 to /desk/login", what, rec.Code, rec.Header().Get("Location"))
	}
}

// authAuditDump returns every audit_events column of every row as text.
func authAuditDump(t *testing.T, a *app) string {
	t.Helper()
	rows, err := a.raw.QueryContext(context.Background(), `SELECT * FROM audit_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				b.Write(v)
			default:
				fmt.Fprint(&b, v)
			}
			b.WriteByte('|')
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// accCodeExact matches a whole activation code as printed on the slip.
var accCodeExact = regexp.MustCompile(`^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$`)

// accWith returns a copy of form with the given field/value pairs set.
func accWith(form url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// accSlip posts an acceptance that must succeed with a slip and returns the
// new visit, the printed code, the recorder and the parsed slip.
func accSlip(t *testing.T, c *client, form url.Values) (int64, string, *httptest.ResponseRecorder, *goquery.Document) {
	t.Helper()
	rec := c.postAccept(form)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("POST /desk/accept: status %d, want 303 to the slip\n%s", rec.Code, rec.Body.String())
	}
	rec = c.follow(rec)
	doc := parseHTML(t, rec.Body.String())
	code := strings.TrimSpace(doc.Find("[data-testid=activation-code]").Text())
	if !accCodeExact.MatchString(code) {
		t.Fatalf("slip activation code = %q, want XXXX-XXXX-XXXX", code)
	}
	visits, err := c.a.db.RecentVisits(context.Background(), 1)
	if err != nil || len(visits) == 0 {
		t.Fatalf("no visit after accept: %v", err)
	}
	return visits[0].ID, code, rec, doc
}

// accVisit reads a visit from the store.
func accVisit(t *testing.T, a *app, id int64) db.Visit {
	t.Helper()
	v, err := a.db.Visit(context.Background(), id)
	if err != nil {
		t.Fatalf("visit %d: %v", id, err)
	}
	return v
}

// accActions lists the action names of events.
func accActions(events []db.AuditEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Action)
	}
	return out
}
