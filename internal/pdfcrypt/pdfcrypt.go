// Package pdfcrypt encrypts a report for email with AES-256 (PDF 2.0,
// revision 6) under the patient's password, with github.com/pdfcpu/pdfcpu:
// the Garante's rule for reports by email is an attachment protected by a
// password that does not travel with it.
package pdfcrypt

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/fault"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/validate"
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
	out, err := rewrite(in, config(model.ENCRYPT, password, rand.Text()))
	if err != nil {
		return nil, fmt.Errorf("pdfcrypt: encrypt: %w", err)
	}
	return out, nil
}

// Decrypt opens a PDF encrypted by Encrypt with password; a wrong password
// is an error. fse never decrypts what it mailed: tests and tools do.
func Decrypt(encrypted []byte, password string) ([]byte, error) {
	out, err := rewrite(encrypted, config(model.DECRYPT, password, ""))
	if err != nil {
		return nil, fmt.Errorf("pdfcrypt: decrypt: %w", err)
	}
	return out, nil
}

// rewrite reads, validates, optimizes and writes a PDF under conf, as
// pdfcpu's api.Encrypt and api.Decrypt do. It calls pdfcpu's core packages
// rather than its api package, which links pdfcpu's form filling and with it
// go-runewidth, whose package initialisation alone added 27 ms to every
// start of fse.
func rewrite(in []byte, conf *model.Configuration) (out []byte, err error) {
	defer fault.Catch(&err)
	ctx, err := pdfcpu.Read(bytes.NewReader(in), conf)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if err := validate.XRefTable(ctx); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	if err := pdfcpu.OptimizeXRefTable(ctx); err != nil {
		return nil, fmt.Errorf("optimize: %w", err)
	}
	var buf bytes.Buffer
	ctx.Write.Writer = bufio.NewWriter(&buf)
	if err := pdfcpu.WriteContext(ctx); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	if err := ctx.Write.Flush(); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	return buf.Bytes(), nil
}

// disableConfigDir keeps pdfcpu from creating a configuration directory
// (with fonts) under the user's config directory on first use: fse writes
// no files but its own. It is what pdfcpu's api.DisableConfigDir does.
var disableConfigDir sync.Once

// config is pdfcpu's AES-256 configuration for cmd.
func config(cmd model.CommandMode, userPW, ownerPW string) *model.Configuration {
	disableConfigDir.Do(func() { model.ConfigPath = "disable" })
	c := model.NewAESConfiguration(userPW, ownerPW, 256)
	c.Permissions = model.PermissionsPrint
	c.Cmd = cmd
	return c
}
