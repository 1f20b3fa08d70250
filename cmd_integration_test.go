package main

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fse/db"
	"fse/internal/testkit"
)

func TestIntegrationCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fse.db")
	d := testkit.OpenPath(t, path)
	if _, err := d.CreateFacility(context.Background(), db.Facility{Code: "MN", Name: "Mantova"}, db.Actor{Kind: db.ActorCLI}, testkit.T0); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) result { return runCmd(t, invocation{args: append(args, "--db", path)}) }

	r := run("integration", "add", "--name", "Laboratorio analisi", "--facility", "mn", "--scope", "reports", "--allow-cidr", "10.1.0.0/16")
	token := regexp.MustCompile(`fse_[A-Za-z0-9_-]{43}`).FindString(r.stdout)
	if r.code != 0 || token == "" {
		t.Fatalf("add: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	in, err := d.IntegrationByToken(context.Background(), db.HashIntegrationToken(token))
	if err != nil || in.Name != "Laboratorio analisi" || strings.Join(in.Scopes, ",") != "reports" || strings.Join(in.AllowCIDRs, ",") != "10.1.0.0/16" {
		t.Errorf("stored integration = %+v, %v", in, err)
	}
	if strings.Contains(r.stderr, token) {
		t.Error("the token reached the log")
	}
	if n := testkit.Count(t, d, `SELECT count(*) FROM integrations WHERE instr(token_hash, ?) > 0`, token); n != 0 {
		t.Error("the token itself is stored")
	}

	r = run("integration", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "Laboratorio analisi") || !strings.Contains(r.stdout, "10.1.0.0/16") || strings.Contains(r.stdout, token) {
		t.Errorf("list: code %d stdout %q", r.code, r.stdout)
	}

	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"integration", "add", "--name", "Laboratorio analisi", "--facility", "MN"}, 1},
		{[]string{"integration", "add", "--name", "RIS", "--facility", "XX"}, 2},
		{[]string{"integration", "add", "--name", "RIS", "--facility", "MN", "--scope", "everything"}, 2},
		{[]string{"integration", "add", "--name", "RIS", "--facility", "MN", "--allow-cidr", "10.0.0.1"}, 2},
		{[]string{"integration", "add", "--facility", "MN"}, 2},
		{[]string{"integration", "revoke", "nessuno"}, 2},
		{[]string{"integration", "frobnicate"}, 2},
	} {
		if r := run(tt.args...); r.code != tt.code {
			t.Errorf("%v: code %d, want %d (stderr %q)", tt.args, r.code, tt.code, r.stderr)
		}
	}

	if r := run("integration", "revoke", "Laboratorio analisi"); r.code != 0 {
		t.Fatalf("revoke: %d %q", r.code, r.stderr)
	}
	if _, err := d.IntegrationByToken(context.Background(), db.HashIntegrationToken(token)); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("token after revoke: %v, want it refused at once", err)
	}
	if r := run("integration", "list"); !strings.Contains(r.stdout, "revoked") {
		t.Errorf("list after revoke: %q", r.stdout)
	}
}
