package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Tests of what fse serve tells an operator: metrics on a listener of
// their own, and logs as JSON or text at the chosen level.

func TestServeExposesMetricsOnTheirOwnListenerOnly(t *testing.T) {
	dir := t.TempDir()
	metricsAddr := "127.0.0.1:" + freePort(t)
	s, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "fse.db"),
		"--base-url", "https://referti.example.it", "--retention-days", "45", "--metrics-addr", metricsAddr, "--log-format", "json"}, nil)
	if !ok {
		t.Fatalf("serve exited with %d; stderr %q", code, s.stderr.String())
	}
	if status, _ := get(t, "http://"+s.addr+"/healthz"); status != http.StatusOK {
		t.Fatalf("GET /healthz = %d", status)
	}
	// A failed staff login, as a person at the desk would make it.
	resp, err := http.PostForm("http://"+s.addr+"/desk/login", url.Values{"username": {"capo"}, "password": {"sbagliata-del-tutto"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /desk/login with a wrong password = %d, want 401", resp.StatusCode)
	}
	// Never on the public port.
	if status, _ := get(t, "http://"+s.addr+"/metrics"); status != http.StatusNotFound {
		t.Errorf("GET /metrics on the public port = %d, want 404", status)
	}

	status, body := get(t, "http://"+metricsAddr+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics on --metrics-addr = %d", status)
	}
	text := string(body)
	for _, want := range []string{
		`fse_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`fse_http_requests_total{method="POST",route="/desk/login",status="401"} 1`,
		`fse_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`fse_logins_total{outcome="failed",realm="staff",step="password"} 1`,
		`fse_build_info{commit=`,
		`fse_db_size_bytes `,
		`fse_outbox_pending{channel="sms"} 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "capo") {
		t.Error("the typed username reached the metrics")
	}

	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	if conn, err := net.DialTimeout("tcp", metricsAddr, time.Second); err == nil {
		conn.Close()
		t.Error("the metrics listener still accepts after the server stopped")
	}

	// Every line is a JSON object; the request lines carry their id and
	// route, never what was typed.
	var requests int
	sc := bufio.NewScanner(strings.NewReader(s.stderr.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("log line is not JSON: %q", sc.Text())
			continue
		}
		if line["msg"] == "request" {
			requests++
			if id, _ := line["request_id"].(string); id == "" || line["route"] == nil {
				t.Errorf("request log line without request_id or route: %s", sc.Text())
			}
		}
		if strings.Contains(sc.Text(), "sbagliata") {
			t.Errorf("the typed password reached the log: %s", sc.Text())
		}
	}
	if requests != 3 {
		t.Errorf("%d request lines logged, want one per request to the portal (3)", requests)
	}
}

func TestServeLogLevelLeavesOutTheLowerLevels(t *testing.T) {
	dir := t.TempDir()
	s, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "fse.db"),
		"--base-url", "https://referti.example.it", "--retention-days", "45"}, map[string]string{"FSE_LOG_LEVEL": "warn"})
	if !ok {
		t.Fatalf("serve exited with %d; stderr %q", code, s.stderr.String())
	}
	get(t, "http://"+s.addr+"/healthz")
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	logs := s.stderr.String()
	if strings.Contains(logs, "level=INFO") {
		t.Errorf("FSE_LOG_LEVEL=warn logged INFO lines:\n%s", logs)
	}
	// No SMS gateway is configured: that warning still shows.
	if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "no SMS gateway configured") {
		t.Errorf("FSE_LOG_LEVEL=warn left out the warnings:\n%s", logs)
	}
}
