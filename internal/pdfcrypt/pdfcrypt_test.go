package pdfcrypt_test

import (
	"bytes"
	"strings"
	"testing"

	"fse/internal/demo"
	"fse/internal/pdfcrypt"
)

func TestEncryptedReportOpensOnlyWithThePassword(t *testing.T) {
	plain, err := demo.ReportPDF("Esami del sangue", "Rossi Mario", "RSSMRA85T10A562S", "MN-2026-00001", []string{"Emocromo"})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "Gatto-Verde.Mangia_Pizza7"
	enc, err := pdfcrypt.Encrypt(bytes.NewReader(plain), pw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(enc, []byte("%PDF-")) || !bytes.Contains(enc, []byte("/Encrypt")) {
		t.Fatal("the result is not an encrypted PDF")
	}
	if bytes.Contains(enc, []byte("Rossi")) {
		t.Error("the patient's name is readable in the encrypted PDF")
	}
	for _, tt := range []struct {
		name, password string
		wantOK         bool
	}{
		{"the password", pw, true},
		{"a wrong password", "Gatto-Verde.Mangia_Pasta7", false},
		{"no password", "", false},
	} {
		got, err := pdfcrypt.Decrypt(enc, tt.password)
		if (err == nil) != tt.wantOK {
			t.Errorf("%s: error %v, want success %t", tt.name, err, tt.wantOK)
		}
		if tt.wantOK && !strings.HasPrefix(string(got), "%PDF-") {
			t.Errorf("%s: the decrypted file is not a PDF", tt.name)
		}
	}
}

func TestPasswordCharsOpenInEveryReader(t *testing.T) {
	for _, tt := range []struct {
		pw   string
		want bool
	}{
		{"Gatto-Verde.Mangia_Pizza7", true},
		{"gatto verde mangia pizza", false}, // spaces
		{"perché-così-tanto", false},        // accented letters
		{"", false},
	} {
		if got := pdfcrypt.PasswordChars(tt.pw); got != tt.want {
			t.Errorf("PasswordChars(%q) = %t, want %t", tt.pw, got, tt.want)
		}
	}
	if _, err := pdfcrypt.Encrypt(strings.NewReader("%PDF-1.7"), "due parole"); err == nil {
		t.Error("Encrypt took a password with a space")
	}
}
