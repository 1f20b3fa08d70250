// Package mfa holds the second factors of patients and staff: authenticator
// apps (TOTP, RFC 6238) and single-use recovery codes. It makes the secrets
// and seals them for their owner, checks a typed code (each time step at
// most once) or recovery code (a keyed MAC, used up), and knows nothing of
// HTTP: the handlers explain its answers and apply the lockouts. Passkeys
// are checked by package passkey; Add stores them here, so the first factor
// of any kind brings the recovery codes.
//
// The TOTP parameters are the ones every authenticator app supports
// (Google Authenticator, Microsoft Authenticator, FreeOTP, Aegis...):
// HMAC-SHA1, 6 digits, 30-second steps, a 160-bit secret. One step either
// side of the server's clock is accepted, for phones whose clock drifts.
package mfa

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"fse/db"
	"fse/internal/sealbox"
)

// TOTP parameters.
const (
	// Issuer is the name the app shows above the code.
	Issuer = "Referti online"
	// Period is how long one code lasts.
	Period = 30 * time.Second
	// Skew is how many steps either side of the server's are accepted.
	Skew = 1
	// secretSize is RFC 4226's recommended 160 bits.
	secretSize = 20
	// MaxNameLength bounds the name a person gives an app.
	MaxNameLength = 60
	// DefaultName names an app its owner did not name.
	DefaultName = "App di autenticazione"
)

var digits = otp.DigitsSix

// Errors of Check and Confirm; handlers explain each one.
var (
	// ErrWrongCode is a code that matches no app and no unused recovery code.
	ErrWrongCode = errors.New("mfa: wrong code")
	// ErrCodeReused is an app's code of a time step already accepted: the
	// person waits for the next code.
	ErrCodeReused = errors.New("mfa: code of a time step already used")
)

// Service enrols and checks second factors. It is safe for concurrent use.
type Service struct {
	DB   *db.DB
	Keys *sealbox.Keys
	Now  func() time.Time
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Enrolment is a new authenticator app waiting for its first code.
type Enrolment struct {
	// Sealed is the secret sealed for its owner: the browser session keeps
	// it until the first code confirms it, the store afterwards. The
	// secret itself is never written anywhere in clear.
	Sealed []byte
	// Secret is the base32 secret, for typing it into the app by hand.
	Secret string
	// URL is the otpauth:// address the QR code carries.
	URL string
}

// SecretGroups is the secret in groups of four characters, as it is typed.
func (e Enrolment) SecretGroups() string {
	var b strings.Builder
	for i, r := range e.Secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// NewEnrolment makes a fresh secret for owner; account is the name the app
// shows beside the issuer (the person's name or username).
func (s *Service) NewEnrolment(owner db.Owner, account string) (Enrolment, error) {
	secret := make([]byte, secretSize)
	if _, err := rand.Read(secret); err != nil {
		return Enrolment{}, fmt.Errorf("mfa: new secret: %w", err)
	}
	sealed, err := s.Keys.SealValue(sealbox.TOTPSecret, owner.String(), secret)
	if err != nil {
		return Enrolment{}, err
	}
	return enrolment(sealed, secret, account)
}

// OpenEnrolment reopens an enrolment kept sealed in a session, to show it
// again.
func (s *Service) OpenEnrolment(owner db.Owner, account string, sealed []byte) (Enrolment, error) {
	secret, err := s.Keys.OpenValue(sealbox.TOTPSecret, owner.String(), sealed)
	if err != nil {
		return Enrolment{}, fmt.Errorf("mfa: open enrolment of %s: %w", owner, err)
	}
	return enrolment(sealed, secret, account)
}

func enrolment(sealed, secret []byte, account string) (Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: Issuer, AccountName: account, Period: uint(Period / time.Second),
		Secret: secret, Digits: digits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return Enrolment{}, fmt.Errorf("mfa: otpauth address: %w", err)
	}
	return Enrolment{Sealed: sealed, Secret: b32.EncodeToString(secret), URL: key.URL()}, nil
}

// Confirm checks the first code of an enrolment and stores the app for its
// owner under name, with event audited and notices queued. When it is the
// owner's first factor, fresh recovery codes are stored too and returned
// (shown once: only their MACs are kept); otherwise codes is nil. The
// code's time step counts as used.
func (s *Service) Confirm(ctx context.Context, owner db.Owner, sealed []byte, typed, name string, event db.AuditEvent,
	notices ...db.OutboxMessage) (codes []string, err error) {
	secret, err := s.Keys.OpenValue(sealbox.TOTPSecret, owner.String(), sealed)
	if err != nil {
		return nil, fmt.Errorf("mfa: open enrolment of %s: %w", owner, err)
	}
	code, ok := totpDigits(typed)
	if !ok {
		return nil, ErrWrongCode
	}
	step, ok := matchStep(b32.EncodeToString(secret), code, s.step(), 0)
	if !ok {
		return nil, ErrWrongCode
	}
	f := db.Factor{Owner: owner, Kind: db.FactorTOTP, Name: CleanName(name), Secret: sealed, LastStep: step}
	return s.Add(ctx, f, event, notices...)
}

// Add stores a second factor its owner has just proved (an app through
// Confirm, a passkey once the browser registered it), with event audited
// and notices queued. When it is the owner's first factor, fresh recovery
// codes are stored too and returned (shown once: only their MACs are
// kept); otherwise codes is nil.
func (s *Service) Add(ctx context.Context, f db.Factor, event db.AuditEvent, notices ...db.OutboxMessage) (codes []string, err error) {
	codes, macs := s.newRecoveryCodes(f.Owner)
	_, stored, err := s.DB.AddFactor(ctx, f, macs, event, s.Now().UTC(), notices...)
	if err != nil {
		return nil, err
	}
	if !stored {
		codes = nil
	}
	return codes, nil
}

// CleanName trims a name given to an app, shortens it to MaxNameLength
// characters and gives a default to an empty one.
func CleanName(name string) string {
	name = strings.Join(strings.Fields(name), " ")
	if utf8.RuneCountInString(name) > MaxNameLength {
		name = string([]rune(name)[:MaxNameLength])
	}
	if name == "" {
		return DefaultName
	}
	return name
}

// Result is what a typed second-factor code turned out to be.
type Result struct {
	// Factor is the app whose code it was (zero for a recovery code).
	Factor db.Factor
	// Recovery is set when a recovery code was used up; Left is how many
	// the owner has left.
	Recovery bool
	Left     int
}

// Check verifies typed against the owner's apps or, when it has the shape
// of a recovery code, uses up that recovery code (recoveryEvent is audited
// and recoveryNotices queued with it). A wrong code is ErrWrongCode, an
// app's code of a step already accepted is ErrCodeReused.
func (s *Service) Check(ctx context.Context, owner db.Owner, typed string, recoveryEvent db.AuditEvent,
	recoveryNotices ...db.OutboxMessage) (Result, error) {
	if code, ok := totpDigits(typed); ok {
		return s.checkTOTP(ctx, owner, code)
	}
	code := NormalizeRecoveryCode(typed)
	if !validRecoveryCode(code) {
		return Result{}, ErrWrongCode
	}
	left, err := s.DB.UseRecoveryCode(ctx, owner, s.recoveryMAC(owner, code), recoveryEvent, s.Now().UTC(), recoveryNotices...)
	if errors.Is(err, db.ErrNotFound) {
		return Result{}, ErrWrongCode
	}
	if err != nil {
		return Result{}, err
	}
	return Result{Recovery: true, Left: left}, nil
}

func (s *Service) checkTOTP(ctx context.Context, owner db.Owner, code string) (Result, error) {
	factors, err := s.DB.Factors(ctx, owner)
	if err != nil {
		return Result{}, err
	}
	now := s.step()
	reused := false
	for _, f := range factors {
		if f.Kind != db.FactorTOTP {
			continue
		}
		secret, err := s.Keys.OpenValue(sealbox.TOTPSecret, owner.String(), f.Secret)
		if err != nil {
			return Result{}, fmt.Errorf("mfa: open factor %d of %s: %w", f.ID, owner, err)
		}
		step, ok := matchStep(b32.EncodeToString(secret), code, now, f.LastStep)
		if !ok {
			if _, seen := matchStep(b32.EncodeToString(secret), code, now, 0); seen {
				reused = true
			}
			continue
		}
		err = s.DB.UseTOTPStep(ctx, f.ID, step, s.Now().UTC())
		if errors.Is(err, db.ErrStepUsed) {
			return Result{}, ErrCodeReused
		}
		if err != nil {
			return Result{}, err
		}
		f.LastStep = step
		return Result{Factor: f}, nil
	}
	if reused {
		return Result{}, ErrCodeReused
	}
	return Result{}, ErrWrongCode
}

// matchStep finds the step within Skew of now, after last, whose code is
// code; false when none is.
func matchStep(secret, code string, now, last int64) (int64, bool) {
	for step := now - Skew; step <= now+Skew; step++ {
		if step <= last || step < 0 {
			continue
		}
		ok, err := hotp.ValidateCustom(code, uint64(step), secret, hotp.ValidateOpts{Digits: digits, Algorithm: otp.AlgorithmSHA1})
		if err == nil && ok {
			return step, true
		}
	}
	return 0, false
}

func (s *Service) step() int64 { return Step(s.Now()) }

// Step is the TOTP time step of t.
func Step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// CodeAt returns the code an app with the base32 secret shows during step,
// as the app computes it; tests and the command line use it as an app would.
func CodeAt(secret string, step int64) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: digits, Algorithm: otp.AlgorithmSHA1})
}

// totpDigits keeps the digits of a typed app code ("123 456" works); false
// when it does not look like one.
func totpDigits(typed string) (string, bool) {
	var b strings.Builder
	for _, r := range typed {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '\t':
		default:
			return "", false
		}
	}
	if b.Len() != digits.Length() {
		return "", false
	}
	return b.String(), true
}
