package main

import (
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"fse/internal/testkit"
)

// Tests of HTTPS with certificates from an ACME CA, against Pebble, Let's
// Encrypt's test CA, run here: `go install` builds it from the Go module
// proxy into the test's temp dir (it is not a dependency of fse).

// pebbleModule is the Pebble release the test runs.
const pebbleModule = "github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3"

// installPebble builds Pebble; without the module proxy the test is
// skipped on a developer's machine, and fails in CI.
func installPebble(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	cmd := exec.Command("go", "install", pebbleModule)
	cmd.Dir = bin
	cmd.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("go install %s: %v\n%s", pebbleModule, err, out)
		}
		t.Skipf("Pebble (the ACME test CA) cannot be built here, so the ACME path is not tested: go install %s: %v\n%s", pebbleModule, err, out)
	}
	return filepath.Join(bin, "pebble")
}

// serveDNS answers every A question with 127.0.0.1 and every other with
// no answer, over UDP and TCP (Pebble asks over TCP): the domain of the
// test then points at this machine, as a clinic's DNS points at its
// server.
func serveDNS(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	pc, err := net.ListenPacket("udp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if msg := dnsAnswer(buf[:n]); msg != nil {
				_, _ = pc.WriteTo(msg, from)
			}
		}
	}()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				for {
					var size [2]byte
					if _, err := io.ReadFull(conn, size[:]); err != nil {
						return
					}
					query := make([]byte, int(size[0])<<8|int(size[1]))
					if _, err := io.ReadFull(conn, query); err != nil {
						return
					}
					msg := dnsAnswer(query)
					if msg == nil {
						return
					}
					if _, err := conn.Write(append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dnsAnswer answers one query: 127.0.0.1 for an A question, nothing for
// the others; nil for what is not a query.
func dnsAnswer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	if q.Type == dnsmessage.TypeA {
		_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
	}
	msg, err := b.Finish()
	if err != nil {
		return nil
	}
	return msg
}

// pebble is a running Pebble.
type pebble struct {
	dir, mgmt string
	cmd       *exec.Cmd
	out       *testkit.LogBuffer
}

// startPebble runs Pebble with its HTTPS signed by ca. It validates
// HTTP-01 challenges on httpPort and TLS-ALPN-01 on tlsPort, resolving
// names with the DNS server at dns.
func startPebble(t *testing.T, bin string, ca *testCA, httpPort, tlsPort, dns string) *pebble {
	t.Helper()
	dir := t.TempDir()
	ca.issue(t, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), 500, time.Now().Add(24*time.Hour), "127.0.0.1", "localhost")
	listen, mgmt := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress": listen, "managementListenAddress": mgmt,
		"certificate": filepath.Join(dir, "cert.pem"), "privateKey": filepath.Join(dir, "key.pem"),
		"httpPort": portNumber(t, httpPort), "tlsPort": portNumber(t, tlsPort),
		"ocspResponderURL": "", "externalAccountBindingRequired": false,
		"retryAfter": map[string]int{"authz": 1, "order": 1},
	}}
	raw, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "pebble.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &pebble{dir: "https://" + listen + "/dir", mgmt: mgmt, out: &testkit.LogBuffer{}}
	p.cmd = exec.Command(bin, "-config", filepath.Join(dir, "pebble.json"), "-dnsserver", dns)
	// No random wait before validating; no nonces refused on purpose.
	p.cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	client := httpsClient(ca.pool(), listen)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(p.dir)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Pebble does not answer on %s: %v\n%s", p.dir, err, p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *pebble) stop() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// root is the root that signs the certificates Pebble issues (a new one
// at each start).
func (p *pebble) root(t *testing.T, ca *testCA) *x509.CertPool {
	t.Helper()
	resp, err := httpsClient(ca.pool(), p.mgmt).Get("https://" + p.mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	pemBytes, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("Pebble's root is not PEM: %q", pemBytes)
	}
	return pool
}

func TestServeHTTPSWithACMECertificatesOverHTTP01(t *testing.T) {
	bin := installPebble(t)
	ca := newTestCA(t)
	httpPort := freePort(t)
	// Nothing listens on the TLS-ALPN-01 port Pebble is given: the
	// certificate can only come through the HTTP-01 challenge, answered on
	// fse's plain-HTTP listener.
	p := startPebble(t, bin, ca, httpPort, freePort(t), serveDNS(t))

	dir := t.TempDir()
	const name = "referti.fse.test"
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "fse.db"), "--base-url", "https://" + name,
		"--retention-days", "45", "--tls-domain", name, "--acme-directory", p.dir, "--acme-email", "it@example.it",
		"--acme-ca-file", ca.writePEM(t, dir), "--http-addr", "127.0.0.1:" + httpPort}
	s, code, ok := startCmd(t, args, nil)
	if !ok {
		t.Fatalf("serve exited with %d; stderr %q", code, s.stderr.String())
	}
	roots := p.root(t, ca)
	resp, err := httpsClient(roots, s.addr).Get("https://" + name + "/healthz")
	if err != nil {
		t.Fatalf("GET https://%s/healthz with Pebble's root: %v\nfse:\n%s\nPebble:\n%s", name, err, s.stderr.String(), p.out.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("GET /healthz = %d, HSTS %q; want 200 with HSTS", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	leaf := resp.TLS.PeerCertificates[0]
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != name {
		t.Errorf("certificate names = %v, want [%s]", leaf.DNSNames, name)
	}
	if out := p.out.String(); !strings.Contains(out, "Attempting to validate w/ HTTP") || !strings.Contains(out, "set VALID") {
		t.Errorf("Pebble's log does not show an HTTP-01 validation:\n%s", p.out.String())
	}

	// The account and the certificate are cached beside the database,
	// readable by fse alone.
	cache := filepath.Join(dir, "acme")
	st, err := os.Stat(cache)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("ACME cache %s: %v, mode %v; want a 0700 directory", cache, err, st.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(cache, name)); err != nil {
		t.Errorf("the certificate is not cached: %v", err)
	}
	serial := leaf.SerialNumber.Int64()
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}

	// Restarted with the CA gone, fse serves the cached certificate.
	p.stop()
	s2, code, ok := startCmd(t, args, nil)
	if !ok {
		t.Fatalf("second start exited with %d; stderr %q", code, s2.stderr.String())
	}
	if got := servedSerial(t, roots, s2.addr, name); got != serial {
		t.Errorf("after a restart the served serial is %d, want the cached %d", got, serial)
	}
	if code := s2.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	if logs := s.stderr.String(); !strings.Contains(logs, "TLS certificate ready") {
		t.Errorf("the first start does not log the certificate it obtained:\n%s", logs)
	}
}
