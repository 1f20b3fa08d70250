// Package sealbox encrypts medical report documents at rest.
//
// Each document is encrypted with the age streaming format
// (filippo.io/age): age draws a fresh random file key per document and
// encrypts the payload in 64 KiB ChaCha20-Poly1305 chunks, so documents of
// any size are sealed and opened without buffering them whole and without
// plaintext temporary files. The file key is wrapped by a custom age
// recipient ("fse-doc" stanza) under a key-encryption key derived from a
// master secret that lives in a key file outside the database, and the
// wrapping is bound to the document id, so a ciphertext copied into another
// document's row does not decrypt. Small secrets kept in rows (an
// authenticator app's secret) are sealed the same way by SealValue, bound
// to a purpose and an owner; codes that only need comparing are stored as
// keyed MACs in named domains (MAC).
package sealbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/hkdf"
)

// Key file format and key derivation labels. Changing any of them makes
// existing data unreadable, hence the explicit version suffixes.
const (
	keyFilePrefix = "fse-master-key-v1:"
	kekInfo       = "fse document kek v1"
	codeMACInfo   = "fse activation code mac v1"
	valueKeyInfo  = "fse sealed value key v1"
	masterKeySize = 32
	// maxKeyFileSize bounds how much LoadKeyFile reads, so a wrong path
	// pointing at a huge file fails fast instead of exhausting memory.
	maxKeyFileSize = 4096
)

// ErrKeyFileMissing is returned (wrapped with the path) by LoadKeyFile when
// the key file does not exist, so that the caller can tell a first start,
// where a key file should be created, from a broken or unreadable one,
// where creating a new key would make all stored documents unreadable.
var ErrKeyFileMissing = errors.New("sealbox: key file does not exist")

// Keys holds the master secret loaded from the key file together with the
// subkeys derived from it. Subkeys are separated by purpose (document key
// wrapping, activation code MACs, sealed values) so that no key is ever used
// for two different jobs. A Keys value is safe for concurrent use.
type Keys struct {
	master  [masterKeySize]byte
	kek     [32]byte
	codeMAC [32]byte
	// valueKey seals small secrets (SealValue).
	valueKey [32]byte
	// ready is set by NewKeys; it stops a zero Keys (whose subkeys are
	// all zero bytes) from silently encrypting under a known key.
	ready bool
}

// errZeroKeys is returned when a Keys was not built by NewKeys,
// LoadKeyFile or CreateKeyFile.
var errZeroKeys = errors.New("sealbox: Keys not initialized (use LoadKeyFile, CreateKeyFile or NewKeys)")

// NewKeys builds Keys from a raw 32-byte master secret. It exists mainly for
// tests and tools; production code should use LoadKeyFile or CreateKeyFile
// so that the master key never passes through configuration or the database.
func NewKeys(master []byte) (*Keys, error) {
	if len(master) != masterKeySize {
		return nil, fmt.Errorf("sealbox: master key must be %d bytes, got %d", masterKeySize, len(master))
	}
	k := &Keys{}
	copy(k.master[:], master)
	if err := derive(k.master[:], kekInfo, k.kek[:]); err != nil {
		return nil, err
	}
	if err := derive(k.master[:], codeMACInfo, k.codeMAC[:]); err != nil {
		return nil, err
	}
	if err := derive(k.master[:], valueKeyInfo, k.valueKey[:]); err != nil {
		return nil, err
	}
	k.ready = true
	return k, nil
}

// derive fills out with HKDF-SHA256 output for the given purpose label.
func derive(master []byte, info string, out []byte) error {
	if _, err := io.ReadFull(hkdf.New(sha256.New, master, nil, []byte(info)), out); err != nil {
		return fmt.Errorf("sealbox: deriving %q: %w", info, err)
	}
	return nil
}

// String redacts the key material, so that logging a *Keys by mistake
// (fmt would otherwise print every field) never leaks the master secret.
func (k *Keys) String() string { return "sealbox.Keys{REDACTED}" }

// GoString redacts the key material for %#v, for the same reason as String.
func (k *Keys) GoString() string { return k.String() }

// Domain names what a MAC is for. Each purpose hashes under its own
// prefix, so a value MACed for one purpose can never be presented as
// another (an SMS code as an email token, say). The prefixes are stored in
// every MAC already written, so they never change.
type Domain string

// The MAC domains fse uses.
const (
	// ActivationCode MACs the normalised slip code. It has no prefix: the
	// first codes were stored that way, and a code (12 letters and digits)
	// can never equal a prefixed value of the other domains.
	ActivationCode Domain = ""
	// SMSCode MACs the 6-digit one-time codes sent by SMS.
	SMSCode Domain = "otp:"
	// EmailToken MACs the token of an email confirmation link.
	EmailToken Domain = "email:"
	// RecoveryCode MACs a second factor's single-use recovery code, with
	// its owner in the MACed value.
	RecoveryCode Domain = "recovery:"
	// PasskeyHandle MACs an owner's name ("account:12") into the user
	// handle its passkeys carry: stable for the owner, so nothing needs
	// storing, and revealing neither the id nor the realm to the device.
	PasskeyHandle Domain = "passkey-handle:"
	// KeyCheck MACs nothing: the result, stored at first start, tells
	// whether a key file is the one the database was written with.
	KeyCheck Domain = "fse key check v1"
)

// MAC returns HMAC-SHA256 of s in the given domain, under a key derived
// from the master secret (HKDF info "fse activation code mac v1"). Codes
// are short, so a plain hash stored in the database could be brute-forced
// by anyone holding a copy of it; a keyed MAC cannot be reversed without
// the key file, yet it is deterministic, so a code can still be looked up
// by its MAC.
// It panics on a Keys not built by this package, which is a programming
// error that must not yield MACs under an all-zero key.
func (k *Keys) MAC(d Domain, s string) []byte {
	if !k.ready {
		panic(errZeroKeys)
	}
	m := hmac.New(sha256.New, k.codeMAC[:])
	m.Write([]byte(d))
	m.Write([]byte(s))
	return m.Sum(nil)
}

// LoadKeyFile reads an existing key file, which holds a single line
// "fse-master-key-v1:" followed by the standard base64 encoding of 32 bytes
// (a trailing newline is allowed). It refuses a file readable or writable by
// group or others, because the master key protects every stored report and
// must not be exposed to other local users. It returns an error wrapping
// ErrKeyFileMissing if the file does not exist.
func LoadKeyFile(path string) (*Keys, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrKeyFileMissing, path)
	}
	if err != nil {
		return nil, fmt.Errorf("sealbox: opening key file: %w", err)
	}
	defer f.Close()
	// Stat the opened file, not the path, so the checked file is the read one.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("sealbox: key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("sealbox: key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("sealbox: key file %s has permissions %04o, which allow group/other access; run: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("sealbox: reading key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("sealbox: key file %s is too large to be a key file", path)
	}
	master, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("sealbox: key file %s: %w", path, err)
	}
	return NewKeys(master)
}

// parseKeyFile decodes the key file contents; it deliberately never echoes
// the contents in its errors, since they may be (part of) the secret.
func parseKeyFile(data []byte) ([]byte, error) {
	data = bytes.TrimSuffix(data, []byte("\n"))
	data = bytes.TrimSuffix(data, []byte("\r"))
	rest, ok := bytes.CutPrefix(data, []byte(keyFilePrefix))
	if !ok {
		return nil, fmt.Errorf("missing %q prefix", keyFilePrefix)
	}
	// The base64 decoder skips newlines; refuse them so the file is one line.
	if bytes.ContainsAny(rest, "\r\n") {
		return nil, errors.New("key is not valid standard base64 on a single line")
	}
	master, err := base64.StdEncoding.Strict().DecodeString(string(rest))
	if err != nil {
		return nil, errors.New("key is not valid standard base64")
	}
	if len(master) != masterKeySize {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(master), masterKeySize)
	}
	return master, nil
}

// CreateKeyFile creates a new key file holding 32 bytes from crypto/rand,
// with mode 0600. It never overwrites an existing file (O_EXCL), because
// replacing the master key would make every stored document unreadable.
// The file and its directory are fsynced so that a crash right after the
// first start cannot lose the key after documents were encrypted with it.
func CreateKeyFile(path string) (*Keys, error) {
	master := make([]byte, masterKeySize)
	if _, err := rand.Read(master); err != nil {
		return nil, fmt.Errorf("sealbox: generating master key: %w", err)
	}
	k, err := NewKeys(master)
	if err != nil {
		return nil, err
	}
	line := keyFilePrefix + base64.StdEncoding.EncodeToString(master) + "\n"

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sealbox: creating key file: %w", err)
	}
	if err := writeKeyFile(f, line); err != nil {
		f.Close()
		os.Remove(path) // a partial key file must not be mistaken for a valid one
		return nil, fmt.Errorf("sealbox: writing key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("sealbox: writing key file %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("sealbox: syncing directory of key file %s: %w", path, err)
	}
	return k, nil
}

// writeKeyFile sets the mode explicitly (the umask could only have
// narrowed it, but an explicit chmod documents intent), writes and fsyncs.
func writeKeyFile(f *os.File, line string) error {
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := io.WriteString(f, line); err != nil {
		return err
	}
	return f.Sync()
}

// syncDir fsyncs a directory so that a newly created entry is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
