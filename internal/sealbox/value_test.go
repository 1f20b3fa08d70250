package sealbox

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealValueRoundTrip(t *testing.T) {
	k := testKeys(t, 1)
	secret := []byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	sealed, err := k.SealValue(TOTPSecret, "account:12", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Error("the sealed value shows the secret")
	}
	got, err := k.OpenValue(TOTPSecret, "account:12", sealed)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("OpenValue = %q, %v; want the secret", got, err)
	}
	again, err := k.SealValue(TOTPSecret, "account:12", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one value are identical: the nonce is not random")
	}
}

// A sealed secret opens only for the owner and purpose it was sealed for,
// under the key it was sealed with: a row copied to another account does
// not give that account the secret.
func TestOpenValueRefuses(t *testing.T) {
	k := testKeys(t, 1)
	sealed, err := k.SealValue(TOTPSecret, "account:12", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	for _, tt := range []struct {
		name    string
		keys    *Keys
		purpose Purpose
		owner   string
		sealed  []byte
	}{
		{"another owner", k, TOTPSecret, "account:13", sealed},
		{"a staff member with the same id", k, TOTPSecret, "staff:12", sealed},
		{"another purpose", k, Purpose("other"), "account:12", sealed},
		{"another master key", testKeys(t, 2), TOTPSecret, "account:12", sealed},
		{"a flipped bit", k, TOTPSecret, "account:12", flipped},
		{"truncated", k, TOTPSecret, "account:12", sealed[:20]},
		{"empty", k, TOTPSecret, "account:12", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.keys.OpenValue(tt.purpose, tt.owner, tt.sealed); !errors.Is(err, ErrValueRefused) {
				t.Errorf("OpenValue = %q, %v; want ErrValueRefused", got, err)
			}
		})
	}
}

func TestSealValueNeedsPurposeAndOwner(t *testing.T) {
	k := testKeys(t, 1)
	for _, tt := range []struct {
		purpose Purpose
		owner   string
	}{{"", "account:1"}, {TOTPSecret, ""}, {TOTPSecret, "account:1\x00x"}} {
		if _, err := k.SealValue(tt.purpose, tt.owner, []byte("x")); err == nil {
			t.Errorf("SealValue(%q, %q) succeeded, want an error", tt.purpose, tt.owner)
		}
	}
	var zero Keys
	if _, err := zero.SealValue(TOTPSecret, "account:1", []byte("x")); err == nil {
		t.Error("SealValue with zero Keys succeeded")
	}
}
