// Package pdfcrypt encrypts a report for email with AES-256 (PDF 2.0,
// revision 6) under the patient's password, with github.com/pdfcpu/pdfcpu:
// the Garante's rule for reports by email is an attachment protected by a
// password that does not travel with it.
package pdfcrypt

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// MaxSize bounds what Encrypt reads: pdfcpu works on the whole file in
// memory.
const MaxSize = 64 << 20

// ErrTooLarge means the report is larger than MaxSize.
var ErrTooLarge = errors.New("pdfcrypt: report too large to encrypt for email")

// ErrPasswordChars means a password PDF readers may not all accept (see
// PasswordChars).
var ErrPasswordChars = errors.New("pdfcrypt: the password must be printable ASCII without spaces")

// PasswordChars tells whether every PDF reader takes pw as typed: letters,
// digits and the symbols of a standard keyboard, no spaces. AES-256 PDF
// passwords go through SASLprep in some readers and a stricter profile in
// others (pdfcpu refuses spaces), and phones' keyboards make accented
// letters ambiguous; printable ASCII opens everywhere.
func PasswordChars(pw string) bool {
	if pw == "" {
		return false
	}
	for i := 0; i < len(pw); i++ {
		if pw[i] <= ' ' || pw[i] > '~' {
			return false
		}
	}
	return true
}

// Encrypt returns the PDF read from plain encrypted with AES-256: password
// opens it; the owner password, which would lift the restrictions (only
// printing is allowed), is random and thrown away.
func Encrypt(plain io.Reader, password string) ([]byte, error) {
	if !PasswordChars(password) {
		return nil, ErrPasswordChars
	}
	in, err := io.ReadAll(io.LimitReader(plain, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("pdfcrypt: read report: %w", err)
	}
	if len(in) > MaxSize {
		return nil, ErrTooLarge
	}
	var out bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(in), &out, config(password, rand.Text())); err != nil {
		return nil, fmt.Errorf("pdfcrypt: encrypt: %w", err)
	}
	return out.Bytes(), nil
}

// Decrypt opens a PDF encrypted by Encrypt with password; a wrong password
// is an error. fse never decrypts what it mailed: tests and tools do.
func Decrypt(encrypted []byte, password string) ([]byte, error) {
	var out bytes.Buffer
	if err := api.Decrypt(bytes.NewReader(encrypted), &out, config(password, "")); err != nil {
		return nil, fmt.Errorf("pdfcrypt: decrypt: %w", err)
	}
	return out.Bytes(), nil
}

// config is pdfcpu's AES-256 configuration. pdfcpu would otherwise create
// a configuration directory (with fonts) under the user's config directory
// on first use; fse writes no files but its own, so that is turned off
// first (pdfcpu's documented way for library use; idempotent).
func config(userPW, ownerPW string) *model.Configuration {
	api.DisableConfigDir()
	c := model.NewAESConfiguration(userPW, ownerPW, 256)
	c.Permissions = model.PermissionsPrint
	return c
}
