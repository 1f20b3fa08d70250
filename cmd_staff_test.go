package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/password"
	"fse/internal/testkit"
)

// Tests of `fse staff set-password` and `fse staff reset-mfa`: the way
// back in for the last admin locked out, and the staff password rule.

// staffWithApp seeds "capo" (an admin) through the CLI and gives them an
// authenticator app and recovery codes, as if they had set them up.
func staffWithApp(t *testing.T, path string) db.Staff {
	t.Helper()
	seedStaffDB(t, path)
	d := testkit.OpenPath(t, path)
	defer d.Close()
	ctx := context.Background()
	st, err := d.StaffByUsername(ctx, "capo")
	if err != nil {
		t.Fatal(err)
	}
	owner := db.StaffOwner(st.ID)
	if _, stored, err := d.AddFactor(ctx, db.Factor{Owner: owner, Kind: db.FactorTOTP, Name: "Telefono", Secret: []byte("sealed")},
		[][]byte{[]byte("mac1"), []byte("mac2")}, db.AuditEvent{Actor: db.Actor{Kind: db.ActorCLI}, Action: db.ActionStaffFactorAdd},
		time.Now()); err != nil || !stored {
		t.Fatalf("add factor: stored %v, %v", stored, err)
	}
	return st
}

func TestStaffResetMFARemovesTheAppsAndEndsTheSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fse.db")
	before := staffWithApp(t, path)

	r := runCmd(t, invocation{args: []string{"staff", "reset-mfa", "--db", path, "--username", "capo"}})
	if r.code != 0 || !strings.Contains(r.stdout, `"capo"`) {
		t.Fatalf("reset-mfa: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	d := testkit.OpenPath(t, path)
	ctx := context.Background()
	st, err := d.StaffByUsername(ctx, "capo")
	if err != nil {
		t.Fatal(err)
	}
	if st.Factors != 0 {
		t.Errorf("factors after the reset: %d, want 0", st.Factors)
	}
	if left, _ := d.RecoveryCodesLeft(ctx, db.StaffOwner(st.ID)); left != 0 {
		t.Errorf("recovery codes after the reset: %d, want 0", left)
	}
	// Their open sessions end, and their next login tells them.
	if st.SessionValid(before.CreatedAt) || st.MFAResetAt.IsZero() {
		t.Errorf("after the reset: sessions valid after %v, reset told %v; want old sessions ended and the member told", st.SessionsValidAfter, st.MFAResetAt)
	}
	ev, err := d.ListAudit(ctx, db.AuditFilter{Action: db.ActionStaffFactorsReset, Limit: 10})
	if err != nil || len(ev) != 1 || ev[0].Actor.Kind != db.ActorCLI || ev[0].ObjectID != st.ID {
		t.Errorf("reset audited as %+v (%v), want one event by the command line on capo", ev, err)
	}

	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown member", []string{"--username", "nessuno"}, 1, `no staff member called "nessuno"`},
		{"no username", nil, exitUsage, "--username is required"},
		{"not a database", []string{"--username", "capo", "--db", filepath.Join(t.TempDir(), "missing.db")}, 1, "not an fse database"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"staff", "reset-mfa", "--db", path}, tt.args...)
			r := runCmd(t, invocation{args: args})
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestStaffSetPasswordReplacesThePasswordAndEndsTheSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fse.db")
	before := staffWithApp(t, path)
	const newPassword = "lampada rossa sul comodino"

	r := runCmd(t, invocation{args: []string{"staff", "set-password", "--db", path, "--username", "capo", "--password-stdin"},
		stdin: newPassword + "\n"})
	if r.code != 0 {
		t.Fatalf("set-password: exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, newPassword) {
		t.Error("the password was echoed")
	}
	d := testkit.OpenPath(t, path)
	ctx := context.Background()
	st, err := d.StaffByUsername(ctx, "capo")
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := password.NewHasher(password.Params, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := hasher.Verify(ctx, newPassword, st.PasswordHash); err != nil || !ok {
		t.Errorf("the new password does not verify (%v, %v)", ok, err)
	}
	if ok, _, _ := hasher.Verify(ctx, "una-password-lunga", st.PasswordHash); ok {
		t.Error("the old password still verifies")
	}
	if st.SessionValid(before.CreatedAt) {
		t.Error("sessions from before the new password still count")
	}
	// The app stays: a new password is no way around the second factor.
	if st.Factors != 1 {
		t.Errorf("factors after a new password: %d, want 1", st.Factors)
	}
	ev, err := d.ListAudit(ctx, db.AuditFilter{Action: db.ActionStaffPasswordSet, Limit: 10})
	if err != nil || len(ev) != 1 || ev[0].Actor.Kind != db.ActorCLI || strings.Contains(ev[0].Detail, newPassword) {
		t.Errorf("new password audited as %+v (%v), want one event by the command line", ev, err)
	}

	for _, tt := range []struct {
		name, stdin string
		args        []string
		wantCode    int
		wantErr     string
	}{
		{"missing --password-stdin", newPassword + "\n", []string{"--username", "capo"}, exitUsage, "--password-stdin is required"},
		{"empty stdin", "", []string{"--username", "capo", "--password-stdin"}, exitUsage, "no password"},
		{"unknown member", newPassword + "\n", []string{"--username", "nessuno", "--password-stdin"}, 1, `no staff member called "nessuno"`},
		{"guessable password", "password1234\n", []string{"--username", "capo", "--password-stdin"}, exitUsage, "easy to guess"},
		{"the member's own name", "capo1234capo5678\n", []string{"--username", "capo", "--password-stdin"}, exitUsage, "own data"},
		{"short password", "corta\n", []string{"--username", "capo", "--password-stdin"}, exitUsage, "at least 12"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"staff", "set-password", "--db", path}, tt.args...)
			r := runCmd(t, invocation{args: args, stdin: tt.stdin})
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
	if st2, _ := d.StaffByUsername(ctx, "capo"); st2.PasswordHash != st.PasswordHash {
		t.Error("a refused set-password changed the password")
	}
}

// The last admin locked out (wrong passwords, wrong codes, the password
// typed wrong again) gets back in at once after either command: both lift
// the member's lockouts, and only theirs.
func TestStaffCommandsLiftTheMembersLockouts(t *testing.T) {
	for _, tt := range []struct {
		name, stdin string
		args        []string
	}{
		{"reset-mfa", "", []string{"staff", "reset-mfa", "--username", "capo"}},
		{"set-password", "lampada rossa sul comodino\n", []string{"staff", "set-password", "--username", "capo", "--password-stdin"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "fse.db")
			st := staffWithApp(t, path)
			ctx := context.Background()
			owner := db.StaffOwner(st.ID)
			theirs := []string{db.StaffLoginKey("capo"), db.StaffReauthKey(st.ID), db.FactorKey(owner), db.FactorDayKey(owner)}
			others := db.StaffLoginKey("altro")
			d := testkit.OpenPath(t, path)
			lockAtOnce := db.Throttle{MaxFailures: 1, Window: time.Hour, LockFor: 24 * time.Hour}
			for _, k := range append(theirs, others) {
				if _, err := d.ClaimAttempt(ctx, lockAtOnce, k, time.Now()); err != nil {
					t.Fatal(err)
				}
			}

			r := runCmd(t, invocation{args: append(tt.args, "--db", path), stdin: tt.stdin})
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			for _, k := range theirs {
				if until, err := d.LockedUntil(ctx, k, time.Now()); err != nil || !until.IsZero() {
					t.Errorf("lock %s after the command: until %v (%v), want lifted", k, until, err)
				}
			}
			if until, _ := d.LockedUntil(ctx, others, time.Now()); until.IsZero() {
				t.Error("another member's lock was lifted too")
			}
		})
	}
}

// The example: `password1234` was accepted for staff.
func TestStaffAddRefusesAGuessablePassword(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fse.db")
	r := runCmd(t, invocation{args: []string{"staff", "add", "--db", path, "--username", "capo", "--role", "admin", "--password-stdin"},
		stdin: "password1234\n"})
	if r.code != exitUsage || !strings.Contains(r.stderr, "easy to guess") {
		t.Errorf("staff add password1234: exit %d, stderr %q; want %d and a refusal", r.code, r.stderr, exitUsage)
	}
}
