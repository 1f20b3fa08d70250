package sealbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

func testKeys(t testing.TB, seed byte) *Keys {
	t.Helper()
	master := bytes.Repeat([]byte{seed}, 32)
	k, err := NewKeys(master)
	if err != nil {
		t.Fatalf("NewKeys: %v", err)
	}
	return k
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// seal encrypts plaintext for id, writing through an odd-sized buffer so
// writes never line up with age's 64 KiB chunks.
func seal(t testing.TB, k *Keys, id int64, plaintext []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := k.Seal(&buf, id)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if _, err := io.CopyBuffer(w, bytes.NewReader(plaintext), make([]byte, 7001)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

// open decrypts ciphertext, returning the first error from Open or reading.
func open(k *Keys, id int64, ciphertext []byte) ([]byte, error) {
	r, err := k.Open(bytes.NewReader(ciphertext), id)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestRoundTrip(t *testing.T) {
	k := testKeys(t, 1)
	for _, size := range []int{0, 1, 64<<10 - 1, 64 << 10, 64<<10 + 1, 1<<20 + 17} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			plaintext := randomBytes(t, size)
			ciphertext := seal(t, k, 42, plaintext)
			got, err := open(k, 42, ciphertext)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if want := plaintext; !bytes.Equal(got, want) {
				t.Fatalf("round trip mismatch: got %d bytes, want %d bytes", len(got), len(want))
			}
			if size >= 32 {
				window := plaintext[size/2 : size/2+32]
				if bytes.Contains(ciphertext, window) {
					t.Fatal("ciphertext contains a 32-byte window of the plaintext")
				}
			}
		})
	}
}

func TestCiphertextHidesPlaintext(t *testing.T) {
	k := testKeys(t, 1)
	plaintext := []byte(strings.Repeat("%PDF-1.7 patient: Jane Doe, diagnosis: confidential\n", 100))
	ciphertext := seal(t, k, 1, plaintext)
	if bytes.Contains(ciphertext, plaintext[:32]) || bytes.Contains(ciphertext, []byte("Jane Doe")) {
		t.Fatal("ciphertext contains plaintext")
	}
}

func TestSealsDiffer(t *testing.T) {
	k := testKeys(t, 1)
	plaintext := randomBytes(t, 1000)
	a, b := seal(t, k, 5, plaintext), seal(t, k, 5, plaintext)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical")
	}
	// Beyond the header, the payloads must differ too (fresh file key).
	if bytes.Contains(b, a[len(a)-64:]) {
		t.Fatal("two seals share payload bytes")
	}
}

func TestOpenRefuses(t *testing.T) {
	k := testKeys(t, 1)
	plaintext := randomBytes(t, 200<<10)
	ciphertext := seal(t, k, 7, plaintext)

	flipped := bytes.Clone(ciphertext)
	flipped[len(flipped)/2] ^= 0x01

	// The header names the document; rewriting that name must not help,
	// since the wrapped key is authenticated with the document id.
	relabeled := bytes.Replace(ciphertext, []byte("-> fse-doc 7 "), []byte("-> fse-doc 8 "), 1)
	if bytes.Equal(relabeled, ciphertext) {
		t.Fatal("test setup: stanza not found in header")
	}

	tests := []struct {
		name       string
		keys       *Keys
		id         int64
		ciphertext []byte
		wrongIdent bool // error must wrap age.ErrIncorrectIdentity
	}{
		{"other document id", k, 8, ciphertext, true},
		{"negative document id", k, -7, ciphertext, true},
		{"other master key", testKeys(t, 2), 7, ciphertext, true},
		{"relabeled stanza", k, 8, relabeled, true},
		{"flipped byte in the middle", k, 7, flipped, false},
		{"truncated by one byte", k, 7, ciphertext[:len(ciphertext)-1], false},
		{"truncated at a chunk boundary", k, 7, ciphertext[:len(ciphertext)-(200<<10-3*64<<10)-16], false},
		{"truncated to half", k, 7, ciphertext[:len(ciphertext)/2], false},
		{"truncated inside header", k, 7, ciphertext[:20], false},
		{"empty", k, 7, nil, false},
		{"not age at all", k, 7, []byte("%PDF-1.7\n plaintext that was never sealed"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := open(tt.keys, tt.id, tt.ciphertext)
			if err == nil {
				t.Fatalf("open succeeded (%d bytes), want error", len(got))
			}
			if got, want := errors.Is(err, age.ErrIncorrectIdentity), tt.wrongIdent; want && got != want {
				t.Errorf("errors.Is(err, age.ErrIncorrectIdentity) = %v, want %v (err: %v)", got, want, err)
			}
		})
	}
}

func TestTruncatedEmptyPlaintext(t *testing.T) {
	k := testKeys(t, 1)
	ciphertext := seal(t, k, 3, nil)
	for cut := 1; cut <= 17; cut++ {
		if _, err := open(k, 3, ciphertext[:len(ciphertext)-cut]); err == nil {
			t.Errorf("cut %d bytes: open succeeded, want error", cut)
		}
	}
}

func TestUnclosedSealIsRefused(t *testing.T) {
	k := testKeys(t, 1)
	var buf bytes.Buffer
	w, err := k.Seal(&buf, 9)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randomBytes(t, 150<<10)); err != nil {
		t.Fatal(err)
	}
	// No Close: the final chunk is missing.
	if _, err := open(k, 9, buf.Bytes()); err == nil {
		t.Fatal("open of an unclosed seal succeeded, want error")
	}
}

func TestCreateAndLoadKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	created, err := CreateKeyFile(path)
	if err != nil {
		t.Fatalf("CreateKeyFile: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), fs.FileMode(0o600); got != want {
		t.Errorf("mode = %04o, want %04o", got, want)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("fse-master-key-v1:")) || !bytes.HasSuffix(data, []byte("\n")) {
		t.Errorf("key file = %q, want fse-master-key-v1:<base64>\\n", data)
	}

	if _, err := CreateKeyFile(path); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second CreateKeyFile: err = %v, want fs.ErrExist", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, data) {
		t.Error("second CreateKeyFile modified the existing key file")
	}

	loaded, err := LoadKeyFile(path)
	if err != nil {
		t.Fatalf("LoadKeyFile: %v", err)
	}
	if got, want := loaded.MAC(SMSCode, "x"), created.MAC(SMSCode, "x"); !bytes.Equal(got, want) {
		t.Error("loaded keys differ from created keys")
	}
	plaintext := randomBytes(t, 1000)
	got, err := open(loaded, 1, seal(t, created, 1, plaintext))
	if err != nil || !bytes.Equal(got, plaintext) {
		t.Errorf("loaded keys cannot open what created keys sealed: %v", err)
	}
}

func TestLoadKeyFile(t *testing.T) {
	good := "fse-master-key-v1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	tests := []struct {
		name    string
		content string
		mode    fs.FileMode
		wantErr string // substring; empty means success
	}{
		{"with newline", good + "\n", 0o600, ""},
		{"without newline", good, 0o600, ""},
		{"crlf", good + "\r\n", 0o600, ""},
		{"read-only owner", good + "\n", 0o400, ""},
		{"world readable", good + "\n", 0o644, "chmod 600"},
		{"group readable", good + "\n", 0o640, "chmod 600"},
		{"missing prefix", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)), 0o600, "prefix"},
		{"short key", "fse-master-key-v1:" + base64.StdEncoding.EncodeToString(make([]byte, 16)), 0o600, "want 32"},
		{"bad base64", "fse-master-key-v1:!!!!", 0o600, "base64"},
		{"two newlines", good + "\n\n", 0o600, "base64"},
		{"empty", "", 0o600, "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			k, err := LoadKeyFile(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("LoadKeyFile: %v", err)
				}
				if got, want := k.MAC(SMSCode, "a"), testKeys(t, 9).MAC(SMSCode, "a"); !bytes.Equal(got, want) {
					t.Error("loaded wrong key")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadKeyFile: err = %v, want error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), tt.content) && tt.content != "" {
				t.Errorf("error echoes key file contents: %v", err)
			}
		})
	}
}

func TestLoadKeyFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.key")
	_, err := LoadKeyFile(path)
	if !errors.Is(err, ErrKeyFileMissing) {
		t.Fatalf("err = %v, want ErrKeyFileMissing", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want it to name %s", err, path)
	}
}

func TestLoadKeyFileDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(dir); err == nil || errors.Is(err, ErrKeyFileMissing) {
		t.Fatalf("err = %v, want a non-missing error", err)
	}
}

func TestNewKeysLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewKeys(make([]byte, n)); err == nil {
			t.Errorf("NewKeys(%d bytes) succeeded, want error", n)
		}
	}
}

func TestMAC(t *testing.T) {
	k1, k1again, k2 := testKeys(t, 1), testKeys(t, 1), testKeys(t, 2)
	code := "ABCDEFGH2345"
	if got, want := len(k1.MAC(ActivationCode, code)), 32; got != want {
		t.Errorf("len = %d, want %d", got, want)
	}
	if got, want := k1.MAC(ActivationCode, code), k1again.MAC(ActivationCode, code); !bytes.Equal(got, want) {
		t.Error("MAC is not deterministic")
	}
	if bytes.Equal(k1.MAC(ActivationCode, code), k2.MAC(ActivationCode, code)) {
		t.Error("MAC does not depend on the master key")
	}
	if bytes.Equal(k1.MAC(ActivationCode, code), k1.MAC(ActivationCode, code+"x")) {
		t.Error("MAC does not depend on the input")
	}
	seen := map[string]Domain{}
	for _, d := range []Domain{ActivationCode, SMSCode, EmailToken, RecoveryCode, PasskeyHandle, KeyCheck} {
		m := string(k1.MAC(d, "123456"))
		if other, ok := seen[m]; ok {
			t.Errorf("domains %q and %q give the same MAC", d, other)
		}
		seen[m] = d
	}
}

// Every MAC already stored (slip codes, SMS codes, email tokens, the key
// check) or held by a device (a passkey's user handle) must still match
// after an upgrade: these values pin the domains' bytes and the key
// derivation.
func TestMACIsStableAcrossReleases(t *testing.T) {
	k := testKeys(t, 7)
	for _, tt := range []struct {
		domain      Domain
		input, want string
	}{
		{ActivationCode, "K7PM3QXR9HVE", "9573adcf78095c831157ae354c99b7a5ddaca8c186c75a206a8350e31fb418ee"},
		{SMSCode, "K7PM3QXR9HVE", "7fbea7221af6566947268faee90deb13bab0a0d99199ea5484ab17b9258358a1"},
		{EmailToken, "K7PM3QXR9HVE", "00f857b1b848934332d99fc5750d8f577bddb94212f1aab7eb2f5f67790ad8f6"},
		{RecoveryCode, "K7PM3QXR9HVE", "e8a63663c50ea5691a014d4326770348e58b68138696e7285f6d30ba3612a423"},
		{PasskeyHandle, "K7PM3QXR9HVE", "d13811ab3f6ba172128c3a88f5384024f0518fc334405058b6b9f34a703047ac"},
		{KeyCheck, "", "9ee652dfca4ac3e5c591689f2676a67aaa5a21727064cfd156d6621416dba48e"},
	} {
		if got := hex.EncodeToString(k.MAC(tt.domain, tt.input)); got != tt.want {
			t.Errorf("MAC(%q, %q) = %s, want %s", tt.domain, tt.input, got, tt.want)
		}
	}
}

func TestKeysFormattingRedacts(t *testing.T) {
	k := testKeys(t, 0xAB)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		got := fmt.Sprintf(verb, k)
		if strings.Contains(got, "171") || strings.Contains(strings.ToLower(got), "ab") {
			t.Errorf("Sprintf(%q) = %q leaks key material", verb, got)
		}
	}
}

func BenchmarkSeal1MiB(b *testing.B) {
	k := testKeys(b, 1)
	plaintext := randomBytes(b, 1<<20)
	b.SetBytes(int64(len(plaintext)))
	b.ResetTimer()
	for b.Loop() {
		w, err := k.Seal(io.Discard, 1)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write(plaintext); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestZeroKeysRefused(t *testing.T) {
	var k Keys
	if _, err := k.Seal(io.Discard, 1); err == nil {
		t.Error("Seal with zero Keys succeeded, want error")
	}
	if _, err := k.Open(bytes.NewReader(nil), 1); err == nil {
		t.Error("Open with zero Keys succeeded, want error")
	}
	defer func() {
		if recover() == nil {
			t.Error("MAC with zero Keys did not panic")
		}
	}()
	k.MAC(SMSCode, "x")
}
