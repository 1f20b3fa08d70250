package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"fse/db"
	"fse/internal/testkit"
)

// The MACs the tests type: CheckOTP compares MACs, whatever made them.
var (
	rightMAC = []byte("mac of 482913")
	wrongMAC = []byte("mac of 482914")
)

// otpLife is how long the tests' codes live.
const otpLife = 10 * time.Minute

// sendOTP stores a login code sent at t0 and returns its id.
func sendOTP(t *testing.T, d *db.DB) int64 {
	t.Helper()
	id, err := d.CreateOTP(context.Background(), db.OTP{Purpose: db.OTPLogin, Mobile: mobile(1), CreatedAt: t0,
		ExpiresAt: t0.Add(otpLife)}, rightMAC)
	if err != nil {
		t.Fatalf("CreateOTP: %v", err)
	}
	return id
}

func TestCheckOTPAcceptsTheRightCodeOnce(t *testing.T) {
	d := testkit.OpenDB(t)
	ctx := context.Background()
	id := sendOTP(t, d)
	at := t0.Add(time.Minute)

	o, err := d.CheckOTP(ctx, id, db.OTPLogin, rightMAC, at)
	if err != nil {
		t.Fatalf("CheckOTP with the right code: %v", err)
	}
	if o.ID != id || o.Mobile != mobile(1) || !o.UsedAt.Equal(at) {
		t.Errorf("CheckOTP = %+v, want code %d for %s used at %v", o, id, mobile(1), at)
	}
	if _, err := d.CheckOTP(ctx, id, db.OTPLogin, rightMAC, at.Add(time.Second)); !errors.Is(err, db.ErrOTPUsed) {
		t.Errorf("the right code a second time: err = %v, want ErrOTPUsed", err)
	}
}

func TestCheckOTPVoidsTheCodeAtTheFifthWrongEntry(t *testing.T) {
	tests := []struct {
		name  string
		wrong int // wrong entries before the right code
		want  error
	}{
		{"right at once", 0, nil},
		{"right after four mistakes", db.OTPMaxAttempts - 1, nil},
		{"right after five mistakes", db.OTPMaxAttempts, db.ErrOTPExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testkit.OpenDB(t)
			ctx := context.Background()
			id := sendOTP(t, d)
			for i := 1; i <= tt.wrong; i++ {
				want := db.ErrOTPWrong
				if i == db.OTPMaxAttempts {
					want = db.ErrOTPExhausted
				}
				if _, err := d.CheckOTP(ctx, id, db.OTPLogin, wrongMAC, t0.Add(time.Minute)); !errors.Is(err, want) {
					t.Fatalf("wrong entry %d: err = %v, want %v", i, err, want)
				}
				o, err := d.OTPByID(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if o.Attempts != i {
					t.Fatalf("after wrong entry %d: %d attempts counted, want %d", i, o.Attempts, i)
				}
			}
			if _, err := d.CheckOTP(ctx, id, db.OTPLogin, rightMAC, t0.Add(2*time.Minute)); !errors.Is(err, tt.want) {
				t.Errorf("the right code: err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCheckOTPExpiresAtExpiresAt(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want error
	}{
		{"a moment before", t0.Add(otpLife - time.Millisecond), nil},
		{"at ExpiresAt", t0.Add(otpLife), db.ErrOTPExpired},
		{"an hour later", t0.Add(otpLife + time.Hour), db.ErrOTPExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testkit.OpenDB(t)
			id := sendOTP(t, d)
			if _, err := d.CheckOTP(context.Background(), id, db.OTPLogin, rightMAC, tt.at); !errors.Is(err, tt.want) {
				t.Errorf("CheckOTP = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestCheckOTPOfAnotherPurposeIsNotFound: a login code cannot reset a
// password, and trying neither counts nor spends it.
func TestCheckOTPOfAnotherPurposeIsNotFound(t *testing.T) {
	d := testkit.OpenDB(t)
	ctx := context.Background()
	id := sendOTP(t, d)
	for _, mac := range [][]byte{rightMAC, wrongMAC} {
		if _, err := d.CheckOTP(ctx, id, db.OTPReset, mac, t0.Add(time.Minute)); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("login code checked as a reset code: err = %v, want ErrNotFound", err)
		}
	}
	if _, err := d.CheckOTP(ctx, id, db.OTPLogin, rightMAC, t0.Add(time.Minute)); err != nil {
		t.Errorf("the code for its own purpose afterwards: %v, want accepted", err)
	}
}

func TestVerifyOTPLeavesTheCodeForUseOTP(t *testing.T) {
	d := testkit.OpenDB(t)
	ctx := context.Background()
	id := sendOTP(t, d)
	at := t0.Add(time.Minute)

	for i := range 2 {
		o, err := d.VerifyOTP(ctx, id, db.OTPLogin, rightMAC, at)
		if err != nil || !o.UsedAt.IsZero() {
			t.Fatalf("VerifyOTP #%d = %+v, %v; want verified and not used", i+1, o, err)
		}
	}
	if _, err := d.VerifyOTP(ctx, id, db.OTPLogin, wrongMAC, at); !errors.Is(err, db.ErrOTPWrong) {
		t.Errorf("VerifyOTP with a wrong code = %v, want ErrOTPWrong", err)
	}
	if o, _ := d.OTPByID(ctx, id); o.Attempts != 1 {
		t.Errorf("VerifyOTP's wrong code counted %d attempts, want 1", o.Attempts)
	}
	if err := d.UseOTP(ctx, id, at); err != nil {
		t.Fatalf("UseOTP: %v", err)
	}
	if o, _ := d.OTPByID(ctx, id); !o.UsedAt.Equal(at) {
		t.Errorf("code used at %v after UseOTP, want %v", o.UsedAt, at)
	}
	if err := d.UseOTP(ctx, id, at.Add(time.Second)); !errors.Is(err, db.ErrOTPUsed) {
		t.Errorf("second UseOTP = %v, want ErrOTPUsed", err)
	}
	if _, err := d.VerifyOTP(ctx, id, db.OTPLogin, rightMAC, at.Add(time.Second)); !errors.Is(err, db.ErrOTPUsed) {
		t.Errorf("VerifyOTP after UseOTP = %v, want ErrOTPUsed", err)
	}
}
