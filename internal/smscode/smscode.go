// Package smscode issues and checks the one-time codes fse sends by SMS
// (registration, login, password reset, a new mobile): to which countries
// and how many may be sent, how long each lives, how it is stored (a keyed
// MAC), what the message says (in the patient's language) and how it is
// sent. It knows nothing of HTTP, so every rule is testable on its own;
// the handlers only explain its answers.
package smscode

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"fse/db"
	"fse/internal/locale"
	"fse/internal/notify"
	"fse/internal/sealbox"
)

// Budgets: at most SendLimit codes per SendWindow and DailyLimit per
// DailyWindow, per number and per account (the portal's own daily budget
// of codes is in budget.go, the countries codes go to in countries.go). With db.OTPMaxAttempts wrong
// entries per code, guessing is bounded to 50 tries a day at a million
// possible codes, without any lock a stranger could trigger on someone
// else's account; the daily cap also stops a slow SMS flood at the
// clinic's expense.
const (
	SendLimit   = 3
	SendWindow  = 15 * time.Minute
	DailyLimit  = 10
	DailyWindow = 24 * time.Hour
)

// TTL is how long a code of purpose lives.
func TTL(purpose string) time.Duration {
	if purpose == db.OTPReset {
		return 15 * time.Minute
	}
	return 10 * time.Minute
}

// Mode is how Issue sends a code.
type Mode int

const (
	// SendNow waits for the gateway and reports its failure: the person
	// asking is the account holder, nothing is revealed.
	SendNow Mode = iota
	// SendNeutral sends in the background, so a request for an existing
	// account answers exactly like one for an unknown number, in time and
	// status, whether or not the gateway works.
	SendNeutral
	// SendNothing creates a code that is never sent (the neutral answer for
	// a number that already has an account).
	SendNothing
)

// ErrUnavailable means no SMS gateway is configured, or it failed a SendNow.
var ErrUnavailable = errors.New("sms codes: no SMS gateway available")

// LimitError means the budget is spent until Next.
type LimitError struct{ Next time.Time }

func (e LimitError) Error() string {
	return "sms codes: send limit reached until " + e.Next.Format(time.RFC3339)
}

// Service issues and checks codes. Build it once; it is safe for
// concurrent use.
type Service struct {
	DB   *db.DB
	Keys *sealbox.Keys
	// SMS is the gateway; nil when none is configured.
	SMS notify.Sender
	Log *slog.Logger
	Now func() time.Time
	// Countries are the ISO 3166-1 codes of the countries codes are sent
	// to (see MaySend); none means DefaultCountry.
	Countries []string
	// DailyBudget is how many codes strangers can trigger the portal
	// sends in 24 hours, all numbers together; 0 means DefaultDailyBudget.
	DailyBudget int

	background sync.WaitGroup
	// budgetMu guards budgetLogged: a spent budget is logged once an hour.
	budgetMu     sync.Mutex
	budgetLogged time.Time
}

// NextSend returns when another code for purpose may be sent to mobile or
// accountID, or the zero time when one may be sent now. Login codes, which
// need the password first, are counted apart: codes that strangers can
// trigger (registration, reset, a contact change from their own account)
// share one budget per number, so they can neither use up the holder's
// login codes nor send a number more than DailyLimit SMS a day.
func (s *Service) NextSend(ctx context.Context, purpose, mobile string, accountID int64) (time.Time, error) {
	now := s.Now().UTC()
	purposes := []string{db.OTPRegister, db.OTPReset, db.OTPContact}
	if purpose == db.OTPLogin {
		purposes = []string{db.OTPLogin}
	}
	times, err := s.DB.OTPSendTimes(ctx, purposes, mobile, accountID, now.Add(-DailyWindow))
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	if len(times) >= DailyLimit {
		next = times[len(times)-DailyLimit].Add(DailyWindow)
	}
	var recent []time.Time
	for _, t := range times {
		if t.After(now.Add(-SendWindow)) {
			recent = append(recent, t)
		}
	}
	if len(recent) >= SendLimit {
		if t := recent[len(recent)-SendLimit].Add(SendWindow); t.After(next) {
			next = t
		}
	}
	return next, nil
}

// MaySend says whether a code for purpose may go to mobile now: nil, or
// why not, in this order: a CountryError (the number's country is not
// one codes go to), a BudgetError (the portal's daily budget is spent),
// a LimitError (the number's or account's budget is spent). The first
// two depend on the number alone and the whole portal, so they answer
// alike whether or not the number has an account.
func (s *Service) MaySend(ctx context.Context, purpose, mobile string, accountID int64) error {
	if err := s.checkCountry(mobile); err != nil {
		return err
	}
	if err := s.checkBudget(ctx, purpose); err != nil {
		return err
	}
	next, err := s.NextSend(ctx, purpose, mobile, accountID)
	if err != nil {
		return err
	}
	if !next.IsZero() {
		return LimitError{next}
	}
	return nil
}

// Issue creates a code for purpose and, per mode, sends it to mobile in
// language l (the page's that asked for it, or a logged-in account's). It
// returns the code's id, which the caller keeps (in the browser session)
// to check the typed code against; a code MaySend refuses is its error.
// Every mode counts in the budgets, SendNothing too: the budgets answer
// alike whether or not a number has an account.
func (s *Service) Issue(ctx context.Context, purpose, mobile string, accountID int64, mode Mode, l locale.Lang) (int64, error) {
	now := s.Now().UTC()
	if err := s.MaySend(ctx, purpose, mobile, accountID); err != nil {
		return 0, err
	}
	// Checked for every mode, so "no gateway" says nothing about accounts.
	if s.SMS == nil {
		return 0, ErrUnavailable
	}
	code := sixDigits()
	id, err := s.DB.CreateOTP(ctx, db.OTP{Purpose: purpose, AccountID: accountID, Mobile: mobile, CreatedAt: now,
		ExpiresAt: now.Add(TTL(purpose)), Budgeted: budgeted(purpose)}, s.mac(code))
	if err != nil {
		return 0, err
	}
	msg := notify.Message{To: mobile, Body: Text(locale.For(l), code, purpose)}
	send := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		err := s.SMS.Send(ctx, msg)
		if err != nil {
			// Never the code or the number: the id is enough to trace it.
			s.Log.Error("send sms code", "purpose", purpose, "otp", id, "err", err)
		}
		return err
	}
	switch mode {
	case SendNothing:
	case SendNeutral:
		s.background.Add(1)
		go func() {
			defer s.background.Done()
			_ = send(context.WithoutCancel(ctx))
		}()
	default:
		if err := send(ctx); err != nil {
			return 0, ErrUnavailable
		}
	}
	return id, nil
}

// Text is the SMS that carries a code, in p's language: the code, its
// lifetime, a warning.
func Text(p *locale.Printer, code, purpose string) string {
	return p.N("sms.code", int(TTL(purpose).Minutes()), "Code", code)
}

// Check verifies a typed code against code id for purpose and uses it up;
// a wrong code counts an attempt (db.CheckOTP).
func (s *Service) Check(ctx context.Context, id int64, purpose, typed string) (db.OTP, error) {
	return s.DB.CheckOTP(ctx, id, purpose, s.mac(Normalize(typed)), s.Now().UTC())
}

// Verify is Check without using the code up, for a flow that checks more
// after the code and calls db.UseOTP once it accepts.
func (s *Service) Verify(ctx context.Context, id int64, purpose, typed string) (db.OTP, error) {
	return s.DB.VerifyOTP(ctx, id, purpose, s.mac(Normalize(typed)), s.Now().UTC())
}

// Wait blocks until background sends have finished; the server calls it
// on shutdown, before closing the database.
func (s *Service) Wait() { s.background.Wait() }

func (s *Service) mac(code string) []byte { return s.Keys.MAC(sealbox.SMSCode, code) }

// Normalize keeps the digits of a typed code ("123 456" and "123-456" work).
func Normalize(typed string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, typed)
}

func sixDigits() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}
