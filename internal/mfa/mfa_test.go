package mfa_test

import (
	"context"
	"encoding/base32"
	"errors"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/mfa"
	"fse/internal/testkit"
)

// fixture is a service over a real database with one patient account and
// one staff member, and a clock the test moves.
type fixture struct {
	svc     *mfa.Service
	d       *db.DB
	clock   *testkit.Clock
	account db.Owner
	staff   db.Owner
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	d := testkit.OpenDB(t)
	clock := testkit.NewClock(testkit.T0)
	id, err := d.CreateAccount(ctx, db.Account{FirstName: "Mario", LastName: "Rossi", Mobile: "+393331234567", PasswordHash: "x",
		PrivacyVersion: "v", PrivacyAcceptedAt: clock.Now()}, "", clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	sid, err := d.CreateStaff(ctx, db.Staff{Username: "sportello", Role: db.RoleReception, PasswordHash: "x"},
		db.Actor{Kind: db.ActorCLI}, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: &mfa.Service{DB: d, Keys: testkit.Keys(t), Now: clock.Now}, d: d, clock: clock,
		account: db.AccountOwner(id), staff: db.StaffOwner(sid)}
}

// code is what the app shows now, offset steps away.
func (f *fixture) code(t *testing.T, secret string, offset int64) string {
	t.Helper()
	c, err := mfa.CodeAt(secret, mfa.Step(f.clock.Now())+offset)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol adds an app to owner and returns its secret and the recovery codes.
func (f *fixture) enrol(t *testing.T, owner db.Owner) (string, []string) {
	t.Helper()
	e, err := f.svc.NewEnrolment(owner, "Mario Rossi")
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.svc.Confirm(context.Background(), owner, e.Sealed, f.code(t, e.Secret, 0), "Telefono",
		db.AuditEvent{Actor: db.Actor{Kind: db.ActorPatient}, Action: db.ActionAccountFactorAdd})
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	return e.Secret, codes
}

func TestEnrolmentShowsAnAppReadySecret(t *testing.T) {
	f := newFixture(t)
	e, err := f.svc.NewEnrolment(f.account, "Mario Rossi")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
	if err != nil || len(raw) != 20 {
		t.Errorf("secret %q: %d bytes (%v), want 160 bits of base32", e.Secret, len(raw), err)
	}
	for _, want := range []string{"otpauth://totp/", "secret=" + e.Secret, "issuer=Referti", "period=30", "digits=6", "algorithm=SHA1"} {
		if !strings.Contains(e.URL, want) {
			t.Errorf("URL %q lacks %q", e.URL, want)
		}
	}
	if got := strings.ReplaceAll(e.SecretGroups(), " ", ""); got != e.Secret || len(strings.Fields(e.SecretGroups())[0]) != 4 {
		t.Errorf("SecretGroups = %q, want the secret in groups of 4", e.SecretGroups())
	}
	again, err := f.svc.OpenEnrolment(f.account, "Mario Rossi", e.Sealed)
	if err != nil || again.Secret != e.Secret {
		t.Errorf("OpenEnrolment = %q, %v; want the same secret", again.Secret, err)
	}
	if _, err := f.svc.OpenEnrolment(f.staff, "x", e.Sealed); err == nil {
		t.Error("an enrolment sealed for an account opened for a staff member")
	}
}

func TestConfirmNeedsTheAppsCode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e, err := f.svc.NewEnrolment(f.account, "Mario Rossi")
	if err != nil {
		t.Fatal(err)
	}
	event := db.AuditEvent{Actor: db.Actor{Kind: db.ActorPatient}, Action: db.ActionAccountFactorAdd}
	for _, typed := range []string{"", "12345", "abcdef", f.code(t, e.Secret, 3)} {
		if _, err := f.svc.Confirm(ctx, f.account, e.Sealed, typed, "", event); !errors.Is(err, mfa.ErrWrongCode) {
			t.Errorf("Confirm(%q) = %v, want ErrWrongCode", typed, err)
		}
	}
	if has, _ := f.d.HasFactor(ctx, f.account); has {
		t.Fatal("a refused confirmation stored a factor")
	}
	codes, err := f.svc.Confirm(ctx, f.account, e.Sealed, f.code(t, e.Secret, -1), "  Il mio   telefono ", event)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != mfa.RecoveryCodeCount {
		t.Errorf("first factor gave %d recovery codes, want %d", len(codes), mfa.RecoveryCodeCount)
	}
	factors, err := f.d.Factors(ctx, f.account)
	if err != nil || len(factors) != 1 || factors[0].Name != "Il mio telefono" || factors[0].Kind != db.FactorTOTP {
		t.Fatalf("factors = %+v, %v", factors, err)
	}
	// The secret is stored sealed, never in clear.
	raw := testkit.Raw(t, f.d)
	var stored []byte
	if err := raw.QueryRow(`SELECT secret FROM auth_factors`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	secretBytes, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
	if strings.Contains(string(stored), e.Secret) || strings.Contains(string(stored), string(secretBytes)) {
		t.Error("the app's secret is stored in clear")
	}

	// A second app brings no new recovery codes: the first ones stay.
	e2, _ := f.svc.NewEnrolment(f.account, "Mario Rossi")
	more, err := f.svc.Confirm(ctx, f.account, e2.Sealed, f.code(t, e2.Secret, 0), "", event)
	if err != nil || more != nil {
		t.Errorf("second app: codes %v, err %v; want none", more, err)
	}
	if left, _ := f.d.RecoveryCodesLeft(ctx, f.account); left != mfa.RecoveryCodeCount {
		t.Errorf("recovery codes left = %d, want %d", left, mfa.RecoveryCodeCount)
	}
}

// A code is accepted once: the same code again, or an older step's, is
// refused until the app shows a new one.
func TestCheckAcceptsEachTimeStepOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret, _ := f.enrol(t, f.account)
	// The enrolment used the current step.
	if _, err := f.svc.Check(ctx, f.account, f.code(t, secret, 0), db.AuditEvent{}); !errors.Is(err, mfa.ErrCodeReused) {
		t.Errorf("the enrolment's code again: %v, want ErrCodeReused", err)
	}
	f.clock.Advance(mfa.Period)
	code := f.code(t, secret, 0)
	res, err := f.svc.Check(ctx, f.account, code[:3]+" "+code[3:], db.AuditEvent{})
	if err != nil || res.Recovery || res.Factor.ID == 0 {
		t.Fatalf("next step's code: %+v, %v", res, err)
	}
	for _, tt := range []struct {
		name, typed string
		want        error
	}{
		{"the same code again", code, mfa.ErrCodeReused},
		{"the previous step's code", f.code(t, secret, -1), mfa.ErrCodeReused},
		{"a wrong code", wrongCode(code), mfa.ErrWrongCode},
		{"a code two steps ahead", f.code(t, secret, 2), mfa.ErrWrongCode},
		{"another owner's app code", code, mfa.ErrWrongCode},
	} {
		owner := f.account
		if strings.HasPrefix(tt.name, "another") {
			owner = f.staff
		}
		if _, err := f.svc.Check(ctx, owner, tt.typed, db.AuditEvent{}); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	// A phone one step ahead of the server still works.
	if _, err := f.svc.Check(ctx, f.account, f.code(t, secret, 1), db.AuditEvent{}); err != nil {
		t.Errorf("a code one step ahead: %v", err)
	}
}

func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestRecoveryCodesAreSingleUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, codes := f.enrol(t, f.account)
	used := db.AuditEvent{Actor: db.Actor{Kind: db.ActorPatient, ID: f.account.ID}, Action: db.ActionAccountRecoveryCodeUsed}
	notice := db.OutboxMessage{Channel: db.ChannelSMS, Recipient: "+393331234567", Body: "codice di recupero usato", Kind: "security"}
	res, err := f.svc.Check(ctx, f.account, strings.ToLower(strings.ReplaceAll(codes[0], "-", " ")), used, notice)
	if err != nil || !res.Recovery || res.Left != mfa.RecoveryCodeCount-1 {
		t.Fatalf("first use: %+v, %v; want a recovery with %d left", res, err, mfa.RecoveryCodeCount-1)
	}
	if _, err := f.svc.Check(ctx, f.account, codes[0], used); !errors.Is(err, mfa.ErrWrongCode) {
		t.Errorf("second use: %v, want ErrWrongCode", err)
	}
	if _, err := f.svc.Check(ctx, f.staff, codes[1], used); !errors.Is(err, mfa.ErrWrongCode) {
		t.Errorf("another owner's code: %v, want ErrWrongCode", err)
	}
	if n := testkit.Count(t, f.d, `SELECT count(*) FROM audit_events WHERE action = ?`, db.ActionAccountRecoveryCodeUsed); n != 1 {
		t.Errorf("recovery uses audited: %d, want 1", n)
	}
	if n := testkit.Count(t, f.d, `SELECT count(*) FROM outbox WHERE kind = 'security' AND account_id = ?`, f.account.ID); n != 1 {
		t.Errorf("notices queued: %d, want 1", n)
	}
	for _, c := range codes {
		if n := testkit.Count(t, f.d, `SELECT count(*) FROM recovery_codes WHERE instr(code_mac, ?) > 0`, c); n != 0 {
			t.Errorf("recovery code %s stored in clear", c)
		}
	}

	// New codes void the old ones.
	fresh, err := f.svc.RegenerateRecoveryCodes(ctx, f.account, db.AuditEvent{Action: db.ActionAccountRecoveryCodes})
	if err != nil || len(fresh) != mfa.RecoveryCodeCount {
		t.Fatalf("regenerate: %d codes, %v", len(fresh), err)
	}
	if _, err := f.svc.Check(ctx, f.account, codes[1], used); !errors.Is(err, mfa.ErrWrongCode) {
		t.Errorf("an old code after regenerating: %v, want ErrWrongCode", err)
	}
	if _, err := f.svc.Check(ctx, f.account, fresh[9], used); err != nil {
		t.Errorf("a new code: %v", err)
	}
	// Without a factor there is nothing to recover.
	if _, err := f.svc.RegenerateRecoveryCodes(ctx, f.staff, db.AuditEvent{Action: db.ActionStaffRecoveryCodes}); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("codes for a member without a factor: %v, want ErrNotFound", err)
	}
}

func TestRemovingTheLastFactorRemovesTheRecoveryCodes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.enrol(t, f.account)
	f.clock.Advance(time.Minute)
	f.enrol(t, f.account)
	factors, _ := f.d.Factors(ctx, f.account)
	if len(factors) != 2 {
		t.Fatalf("factors = %d, want 2", len(factors))
	}
	remove := db.AuditEvent{Action: db.ActionAccountFactorRemove}
	if err := f.d.RemoveFactor(ctx, f.staff, factors[0].ID, false, remove, f.clock.Now()); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("removing another owner's factor: %v, want ErrNotFound", err)
	}
	if err := f.d.RemoveFactor(ctx, f.account, factors[0].ID, false, remove, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if left, _ := f.d.RecoveryCodesLeft(ctx, f.account); left != mfa.RecoveryCodeCount {
		t.Errorf("codes after removing one of two apps: %d, want %d", left, mfa.RecoveryCodeCount)
	}
	if err := f.d.RemoveFactor(ctx, f.account, factors[1].ID, false, remove, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if left, _ := f.d.RecoveryCodesLeft(ctx, f.account); left != 0 {
		t.Errorf("codes after removing the last app: %d, want 0", left)
	}
}

func TestCleanName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", mfa.DefaultName},
		{"   ", mfa.DefaultName},
		{" Telefono  di Mario ", "Telefono di Mario"},
		{strings.Repeat("é", 70), strings.Repeat("é", mfa.MaxNameLength)},
	} {
		if got := mfa.CleanName(tt.in); got != tt.want {
			t.Errorf("CleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
