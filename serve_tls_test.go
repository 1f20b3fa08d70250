package main

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fse/internal/testkit"
)

// Tests of HTTPS without a reverse proxy, with the clinic's own
// certificate: TLS 1.2 and up, HSTS, the plain-HTTP redirect, and a
// renewed certificate taken without a restart.

func TestServeTLSFlagsRefused(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"domain and own certificate", []string{"--tls-domain", "referti.example.it", "--tls-cert", "c.pem", "--tls-key", "k.pem",
			"--base-url", "https://referti.example.it"}, "choose one"},
		{"certificate without key", []string{"--tls-cert", "c.pem", "--base-url", "https://referti.example.it"}, "--tls-cert and --tls-key go together"},
		{"ACME email without domain", []string{"--acme-email", "it@example.it"}, "need --tls-domain"},
		{"redirect without HTTPS", []string{"--http-addr", ":80"}, "needs --tls-domain or --tls-cert"},
		{"HTTPS with an http base URL", []string{"--tls-domain", "referti.example.it", "--base-url", "http://referti.example.it"},
			"--base-url must be https://"},
		{"base URL outside the domains", []string{"--tls-domain", "www.example.it", "--base-url", "https://referti.example.it"},
			`"referti.example.it" must be one of --tls-domain`},
		{"wildcard domain", []string{"--tls-domain", "*.example.it"}, "is not a domain name"},
		{"plain ACME directory", []string{"--tls-domain", "referti.example.it", "--base-url", "https://referti.example.it",
			"--acme-directory", "http://ca.example.it/dir"}, "--acme-directory must be an https:// URL"},
		{"ACME email not an address", []string{"--tls-domain", "referti.example.it", "--base-url", "https://referti.example.it",
			"--acme-email", "it"}, "--acme-email must be an email address"},
		{"log format", []string{"--log-format", "xml"}, "--log-format must be text or json"},
		{"log level", []string{"--log-level", "loud"}, "log-level"},
		{"metrics address", []string{"--metrics-addr", "9090"}, "--metrics-addr must be host:port"},
		{"metrics on the public port", []string{"--addr", "127.0.0.1:8443", "--metrics-addr", "127.0.0.1:8443"}, "--metrics-addr must differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := safeEnv(t)
			delete(vars, "FSE_ADDR")
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			r := runIn(ctx, t, invocation{args: append([]string{"serve"}, tt.args...), env: vars})
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, tt.want)
			}
			if _, err := os.Stat(vars["FSE_DB"]); err == nil {
				t.Error("a refused command line created the database")
			}
		})
	}
}

func TestServeHTTPSWithTheClinicsOwnCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	const name = "referti.fse.test"
	ca.issue(t, certFile, keyFile, 1001, time.Now().Add(90*24*time.Hour), name)
	httpAddr := "127.0.0.1:" + freePort(t)

	s, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--http-addr", httpAddr, "--db", filepath.Join(dir, "fse.db"),
		"--base-url", "https://" + name, "--retention-days", "45", "--tls-cert", certFile, "--tls-key", keyFile}, nil)
	if !ok {
		t.Fatalf("serve exited with %d before listening; stderr %q", code, s.stderr.String())
	}
	client := httpsClient(ca.pool(), s.addr)

	resp, err := client.Get("https://" + name + "/healthz")
	if err != nil {
		t.Fatalf("GET https://%s/healthz: %v", name, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz over HTTPS = %d, want 200", resp.StatusCode)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q, want HSTS on every HTTPS answer", hsts)
	}
	if v := resp.TLS.Version; v < tls.VersionTLS12 {
		t.Errorf("negotiated TLS version %x, want 1.2 or later", v)
	}

	// TLS 1.1 and older are refused.
	if conn, err := tls.Dial("tcp", s.addr, &tls.Config{RootCAs: ca.pool(), ServerName: name, MaxVersion: tls.VersionTLS11}); err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
	// Plain HTTP on the HTTPS port gets nothing useful.
	if status, _ := get(t, "http://"+s.addr+"/healthz"); status == http.StatusOK {
		t.Error("plain HTTP on the HTTPS port answered 200")
	}

	// Plain HTTP goes to the same path on --base-url: GET with 301, a form
	// with 308 (its method kept), never to a Host the client made up.
	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		method, host string
		want         int
	}{{http.MethodGet, name, http.StatusMovedPermanently}, {http.MethodPost, name, http.StatusPermanentRedirect},
		{http.MethodGet, "evil.example", http.StatusMovedPermanently}} {
		req, _ := http.NewRequest(tc.method, "http://"+httpAddr+"/attiva?x=1", nil)
		req.Host = tc.host
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != tc.want || loc != "https://"+name+"/attiva?x=1" {
			t.Errorf("%s http://%s/attiva?x=1 (Host %s) = %d to %q, want %d to https://%s/attiva?x=1",
				tc.method, httpAddr, tc.host, resp.StatusCode, loc, tc.want, name)
		}
	}

	// A renewed certificate, then SIGHUP (systemctl reload): served
	// without a restart.
	ca.issue(t, certFile, keyFile, 1002, time.Now().Add(180*24*time.Hour), name)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for servedSerial(t, ca.pool(), s.addr, name) != 1002 {
		if time.Now().After(deadline) {
			t.Fatalf("the renewed certificate is not served after SIGHUP; log:\n%s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d after stop; stderr %q", code, s.stderr.String())
	}
	if logs := s.stderr.String(); strings.Count(logs, "TLS certificate loaded") != 2 || !strings.Contains(logs, "https=true") {
		t.Errorf("the log does not show HTTPS and the two loads:\n%s", logs)
	}
}

func TestServeKeepsRunningOnSIGHUPWithoutCertificate(t *testing.T) {
	dir := t.TempDir()
	s, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "fse.db"),
		"--base-url", "https://referti.example.it", "--retention-days", "45"}, nil)
	if !ok {
		t.Fatalf("serve exited with %d; stderr %q", code, s.stderr.String())
	}
	// SIGHUP's default would end the process (and this test binary).
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.stderr.String(), "SIGHUP: nothing to reload") {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP not answered; log:\n%s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, _ := get(t, "http://"+s.addr+"/healthz"); status != http.StatusOK {
		t.Errorf("GET /healthz after SIGHUP = %d, want 200", status)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestCertReloaderTakesAChangedPairAndKeepsServingOnABadOne(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.issue(t, certFile, keyFile, 1, time.Now().Add(90*24*time.Hour), "referti.fse.test")
	var logs testkit.LogBuffer
	r, err := newCertReloader(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	serial := func() int64 {
		c, _ := r.GetCertificate(nil)
		return c.Leaf.SerialNumber.Int64()
	}
	if changed, err := r.reloadIfChanged(); changed || err != nil {
		t.Errorf("untouched files: reloadIfChanged = %v, %v; want false, nil", changed, err)
	}

	ca.issue(t, certFile, keyFile, 2, time.Now().Add(90*24*time.Hour), "referti.fse.test")
	later := time.Now().Add(time.Minute) // a filesystem with coarse times sees a change too
	for _, f := range []string{certFile, keyFile} {
		if err := os.Chtimes(f, later, later); err != nil {
			t.Fatal(err)
		}
	}
	if changed, err := r.reloadIfChanged(); !changed || err != nil || serial() != 2 {
		t.Errorf("renewed files: reloadIfChanged = %v, %v, serving serial %d; want true, nil, 2", changed, err, serial())
	}

	// A key that does not match (a half-done renewal): refused, the old
	// pair still served.
	other := filepath.Join(dir, "other")
	ca.issue(t, other+".pem", other+".key", 3, time.Now().Add(90*24*time.Hour), "referti.fse.test")
	if err := os.Rename(other+".key", keyFile); err != nil {
		t.Fatal(err)
	}
	if _, err := r.reloadIfChanged(); err == nil {
		t.Error("a mismatched key was taken")
	}
	if serial() != 2 {
		t.Errorf("serving serial %d after a bad renewal, want 2 still", serial())
	}

	// A certificate close to its end is announced in the log.
	ca.issue(t, certFile, keyFile, 4, time.Now().Add(5*24*time.Hour), "referti.fse.test")
	if err := r.reload(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "expires within 14 days") {
		t.Errorf("no warning for a certificate expiring in 5 days:\n%s", logs.String())
	}
}
