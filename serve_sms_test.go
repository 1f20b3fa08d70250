package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeSMSCountriesAndDailyLimitReachTheRegistration: --sms-countries
// (here from FSE_SMS_COUNTRIES) decides which mobiles get a registration
// code, and --sms-daily-limit how many codes go in a day.
func TestServeSMSCountriesAndDailyLimitReachTheRegistration(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To string }
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		sent = append(sent, m.To)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(gw.Close)
	s, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "s.db"),
		"--base-url", "https://referti.example.it", "--retention-days", "45", "--sms-url", gw.URL, "--sms-daily-limit", "1"},
		map[string]string{"FSE_SMS_COUNTRIES": "tn"})
	if !ok {
		t.Fatalf("serve exited with %d; stderr %q", code, s.stderr.String())
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	// register gives consent and submits a profile with mobile, as a
	// browser would (the session cookie carried by hand: it is Secure).
	register := func(mobile string) int {
		t.Helper()
		resp, err := client.PostForm("http://"+s.addr+"/registrati", url.Values{"consent": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var cookie string
		for _, ck := range resp.Cookies() {
			if ck.Name == "__Host-fse" {
				cookie = ck.Name + "=" + ck.Value
			}
		}
		form := url.Values{"first_name": {"Mario"}, "last_name": {"Rossi"}, "mobile": {mobile},
			"password": {"gatto verde mangia pizza tiepida"}, "password2": {"gatto verde mangia pizza tiepida"}}
		req, _ := http.NewRequest(http.MethodPost, "http://"+s.addr+"/registrati/profilo", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", cookie)
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := register("333 123 4567"); got != http.StatusUnprocessableEntity {
		t.Errorf("an Italian mobile with --sms-countries TN: %d, want 422", got)
	}
	if got := register("+216 20 123 456"); got != http.StatusSeeOther {
		t.Errorf("a Tunisian mobile: %d, want 303", got)
	}
	if got := register("+216 20 123 457"); got != http.StatusServiceUnavailable {
		t.Errorf("a second code with --sms-daily-limit 1: %d, want 503", got)
	}
	// Registration codes go in the background; the server waits for them
	// before it exits.
	if code := s.stop(t); code != 0 {
		t.Errorf("exit = %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 1 || sent[0] != "+21620123456" {
		t.Errorf("SMS sent to %v, want only +21620123456", sent)
	}
}
