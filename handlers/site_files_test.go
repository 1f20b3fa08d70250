package handlers_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http"
	"strings"
	"testing"
)

// TestRobotsAllowOnlyTheHomePage: crawlers may index "/" and nothing
// else (every other page is a patient's business or behind login).
func TestRobotsAllowOnlyTheHomePage(t *testing.T) {
	a := newApp(t)
	rec := a.client().get("/robots.txt")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("/robots.txt: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var rules []string
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			rules = append(rules, line)
		}
	}
	want := []string{"User-agent: *", "Allow: /$", "Disallow: /"}
	if strings.Join(rules, "|") != strings.Join(want, "|") {
		t.Errorf("robots.txt rules %q, want %q", rules, want)
	}
}

// TestIconsAreServedWhereBrowsersAndPhonesLook: /favicon.ico, the iOS
// home-screen icon at the root, and the manifest with its icons; each
// page names them in its head.
func TestIconsAreServedWhereBrowsersAndPhonesLook(t *testing.T) {
	a := newApp(t)
	c := a.client()
	ico := c.get("/favicon.ico")
	if ico.Code != http.StatusOK || ico.Header().Get("Content-Type") != "image/x-icon" || !bytes.HasPrefix(ico.Body.Bytes(), []byte{0, 0, 1, 0}) {
		t.Errorf("/favicon.ico: %d %s, %d bytes", ico.Code, ico.Header().Get("Content-Type"), ico.Body.Len())
	}
	for _, path := range []string{"/apple-touch-icon.png", "/apple-touch-icon-precomposed.png"} {
		rec := c.get(path)
		img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
		if rec.Code != http.StatusOK || err != nil || img.Bounds().Dx() != 180 {
			t.Errorf("%s: %d, %v", path, rec.Code, err)
		}
	}
	rec := c.get("/manifest.webmanifest")
	var m struct {
		Name  string `json:"name"`
		Icons []struct {
			Src, Sizes string
		} `json:"icons"`
	}
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/manifest+json" {
		t.Fatalf("manifest: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m.Name != "Referti online" || len(m.Icons) < 2 {
		t.Fatalf("manifest %+v, %v", m, err)
	}
	for _, icon := range m.Icons {
		img, err := png.Decode(bytes.NewReader(c.get(icon.Src).Body.Bytes()))
		if err != nil || icon.Sizes != itoa(int64(img.Bounds().Dx()))+"x"+itoa(int64(img.Bounds().Dy())) {
			t.Errorf("manifest icon %s (%s): %v", icon.Src, icon.Sizes, err)
		}
	}
	page := c.get("/")
	doc := parseHTML(t, page.Body.String())
	for _, sel := range []string{`link[rel=icon][href="/favicon.ico"]`, `link[rel=apple-touch-icon][href="/apple-touch-icon.png"]`,
		`link[rel=manifest][href="/manifest.webmanifest"]`} {
		if doc.Find(sel).Length() != 1 {
			t.Errorf("the home page's head lacks %s", sel)
		}
	}
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "manifest-src 'self'") {
		t.Errorf("CSP %q blocks the manifest", csp)
	}
}
