package handlers_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"fse/handlers"
)

// TestRequestIDIsTheServersUnlessATrustedProxySendsAPlainOne: the request
// id in the log and the X-Request-Id answer is made by the server; a
// client cannot choose it (and so cannot write into the log), and a
// trusted proxy's is kept only when short and plain.
func TestRequestIDIsTheServersUnlessATrustedProxySendsAPlainOne(t *testing.T) {
	_, proxies, err := net.ParseCIDR("192.0.2.200/32")
	if err != nil {
		t.Fatal(err)
	}
	a := newAppWith(t, func(c *handlers.Config) { c.TrustedProxies = []*net.IPNet{proxies} })
	generated := regexp.MustCompile(`^[0-9a-f]{24}$`)
	long := strings.Repeat("a", 65)
	for _, tt := range []struct {
		name, peer, sent string
		kept             bool
	}{
		{"a client's plain id", "192.0.2.10", "abc-123", false},
		{"a client's forged log line", "192.0.2.10", "x\" status=200 ip=10.0.0.1", false},
		{"a trusted proxy's plain id", "192.0.2.200", "req_7f3a.9-B", true},
		{"a trusted proxy's id of 64 characters", "192.0.2.200", long[:64], true},
		{"a trusted proxy's id of 65 characters", "192.0.2.200", long, false},
		{"a trusted proxy's id with a space", "192.0.2.200", "a b", false},
		{"a trusted proxy's id with a newline", "192.0.2.200", "a\nrequest status=500", false},
		{"no id", "192.0.2.200", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/accedi", nil)
			req.RemoteAddr = tt.peer + ":40000"
			if tt.sent != "" {
				req.Header.Set("X-Request-Id", tt.sent)
			}
			rec := httptest.NewRecorder()
			a.e.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Request-Id")
			if tt.kept && got != tt.sent {
				t.Errorf("X-Request-Id = %q, want the proxy's %q", got, tt.sent)
			}
			if !tt.kept && !generated.MatchString(got) {
				t.Errorf("X-Request-Id = %q, want one made by the server", got)
			}
			if !strings.Contains(a.logs.String(), "request_id="+got) {
				t.Errorf("the log does not name request %q", got)
			}
			if !tt.kept && tt.sent != "" && strings.Contains(a.logs.String(), tt.sent) {
				t.Errorf("the log holds the client's id %q", tt.sent)
			}
		})
	}
}
