package sealbox

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// Purpose names what a sealed value is for. It is bound into the
// ciphertext together with the value's owner, the way a document is bound
// to its id: a value copied into another owner's row, or presented for
// another purpose, does not open. The names are part of every value
// already sealed, so they never change.
type Purpose string

// The purposes fse seals values for.
const (
	// TOTPSecret is the shared secret of an authenticator app (RFC 6238).
	TOTPSecret Purpose = "totp-secret"
	// RecoveryCodesShown are new recovery codes waiting, in the session
	// that made them, for their one showing.
	RecoveryCodesShown Purpose = "recovery-codes-shown"
)

// ErrValueRefused means a sealed value did not open: another master key,
// purpose or owner than it was sealed for, or damaged bytes.
var ErrValueRefused = errors.New("sealbox: sealed value does not open")

// valueVersion is the first byte of every sealed value, so the format can
// change without guessing.
const valueVersion = 1

// maxValueSize bounds what SealValue takes: it is for small secrets kept in
// a database row, not for documents (use Seal).
const maxValueSize = 4096

// SealValue encrypts a small secret for purpose and owner (such as
// "account:12") with XChaCha20-Poly1305 under a subkey of the master key
// (HKDF info "fse sealed value key v1"), with a random 24-byte nonce. The
// result is a version byte, the nonce and the ciphertext with its tag; it
// is safe to store next to the owner's other data.
func (k *Keys) SealValue(p Purpose, owner string, plaintext []byte) ([]byte, error) {
	if !k.ready {
		return nil, errZeroKeys
	}
	ad, err := valueAD(p, owner)
	if err != nil {
		return nil, err
	}
	if len(plaintext) > maxValueSize {
		return nil, fmt.Errorf("sealbox: value of %d bytes is too large to seal as a value", len(plaintext))
	}
	aead, err := chacha20poly1305.NewX(k.valueKey[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+chacha20poly1305.NonceSizeX, 1+chacha20poly1305.NonceSizeX+len(plaintext)+chacha20poly1305.Overhead)
	out[0] = valueVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("sealbox: generating nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, ad), nil
}

// OpenValue decrypts a value sealed by SealValue for the same purpose and
// owner; anything else is ErrValueRefused.
func (k *Keys) OpenValue(p Purpose, owner string, sealed []byte) ([]byte, error) {
	if !k.ready {
		return nil, errZeroKeys
	}
	ad, err := valueAD(p, owner)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead || sealed[0] != valueVersion {
		return nil, ErrValueRefused
	}
	aead, err := chacha20poly1305.NewX(k.valueKey[:])
	if err != nil {
		return nil, err
	}
	nonce, box := sealed[1:1+chacha20poly1305.NonceSizeX], sealed[1+chacha20poly1305.NonceSizeX:]
	plain, err := aead.Open(nil, nonce, box, ad)
	if err != nil {
		return nil, ErrValueRefused
	}
	return plain, nil
}

// valueAD is the additional data that binds a value to its purpose and
// owner. A NUL separates them, so neither can be extended into the other.
func valueAD(p Purpose, owner string) ([]byte, error) {
	if p == "" || owner == "" || strings.ContainsRune(string(p), 0) || strings.ContainsRune(owner, 0) {
		return nil, fmt.Errorf("sealbox: a sealed value needs a purpose and an owner without NUL bytes")
	}
	return []byte("fse-value v1\x00" + string(p) + "\x00" + owner), nil
}
