package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/notify"
	"fse/internal/sealbox"
	"fse/views"
)

// Versions of the privacy notices; the accepted version is stored with
// each consent, so a new text can ask for consent again.
const (
	ServicePrivacyVersion = views.ServicePrivacyVersion
	DossierPrivacyVersion = views.DossierPrivacyVersion
)

// Patient session keys.
const (
	keyAccount        = "account_id"
	keyAuthAt         = "auth_at"
	keyPendingAccount = "pending_account_id"
	keyPendingAt      = "pending_at"
	keyOTP            = "otp_id"
	keyNext           = "next"
	keyFlash          = "flash"
)

const ctxAccount = "account"

var (
	patientThrottle    = db.Throttle{MaxFailures: 10, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	activationThrottle = db.Throttle{MaxFailures: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
)

// OTP rules: 6 digits, at most 3 sends per 15 minutes and 10 per day, per
// number and per account (the daily cap stops a slow SMS flood at the
// clinic's expense).
const (
	otpSendLimit      = 3
	otpSendWindow     = 15 * time.Minute
	otpDailySendLimit = 10
	otpDailyWindow    = 24 * time.Hour
)

var otpTTL = map[string]time.Duration{
	db.OTPRegister: 10 * time.Minute,
	db.OTPLogin:    10 * time.Minute,
	db.OTPReset:    15 * time.Minute,
	db.OTPContact:  10 * time.Minute,
}

func (h *Handler) pctx(c echo.Context) context.Context { return c.Request().Context() }

// requirePatient lets through a fully authenticated account (password and,
// when asked, the SMS step); a half-done login goes back to the SMS step.
func (h *Handler) requirePatient(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := h.pctx(c)
		sm := h.patientSessions
		if id := sm.GetInt64(ctx, keyAccount); id != 0 {
			a, err := h.DB.Account(ctx, id)
			if err != nil && !errors.Is(err, db.ErrNotFound) {
				return err
			}
			authAt := sessionTime(sm, ctx, keyAuthAt)
			if err == nil && authAt.After(a.SessionsValidAfter) {
				c.Set(ctxAccount, &a)
				return next(c)
			}
			// The account is gone or its sessions were ended (password reset).
			_ = sm.Destroy(ctx)
			return h.toLogin(c, "La sessione è terminata: accedi di nuovo.")
		}
		if sm.GetInt64(ctx, keyPendingAccount) != 0 {
			return c.Redirect(http.StatusSeeOther, "/accedi/codice")
		}
		if c.Request().Method == http.MethodGet {
			sm.Put(ctx, keyNext, c.Request().URL.Path)
		}
		return h.toLogin(c, "")
	}
}

func (h *Handler) toLogin(c echo.Context, flash string) error {
	if flash != "" {
		h.patientSessions.Put(h.pctx(c), keyFlash, flash)
	}
	if c.Request().Method == http.MethodGet {
		return c.Redirect(http.StatusSeeOther, "/accedi")
	}
	return echo.NewHTTPError(http.StatusUnauthorized, "Sessione scaduta: accedi di nuovo.")
}

func currentAccount(c echo.Context) *db.Account {
	a, _ := c.Get(ctxAccount).(*db.Account)
	return a
}

func patientActor(c echo.Context, accountID int64) db.Actor {
	return db.Actor{Kind: "patient", ID: accountID, IP: c.RealIP()}
}

// pchrome builds the patient page frame, consuming the pending flash.
func (h *Handler) pchrome(c echo.Context, title string) views.PChrome {
	return views.PChrome{
		Title:          title,
		Account:        currentAccount(c),
		Flash:          h.patientSessions.PopString(h.pctx(c), keyFlash),
		RetentionDays:  h.Config.RetentionDays,
		EmailAvailable: h.Email != nil,
	}
}

func (h *Handler) pflash(c echo.Context, msg string) { h.patientSessions.Put(h.pctx(c), keyFlash, msg) }

// signIn starts an authenticated session with a fresh token.
func (h *Handler) signIn(c echo.Context, accountID int64) error {
	ctx := h.pctx(c)
	sm := h.patientSessions
	if err := sm.RenewToken(ctx); err != nil {
		return err
	}
	sm.Remove(ctx, keyPendingAccount)
	sm.Remove(ctx, keyOTP)
	sm.Put(ctx, keyAccount, accountID)
	putSessionTime(sm, ctx, keyAuthAt, h.now())
	return nil
}

// afterLogin sends the patient where they were going, or to activation
// when no dossier is active yet.
func (h *Handler) afterLogin(c echo.Context, accountID int64) error {
	ctx := h.pctx(c)
	if next := h.patientSessions.PopString(ctx, keyNext); strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") {
		return c.Redirect(http.StatusSeeOther, next)
	}
	links, err := h.DB.DossierLinks(ctx, accountID)
	if err != nil {
		return err
	}
	if len(links) == 0 {
		return c.Redirect(http.StatusSeeOther, "/attiva")
	}
	return c.Redirect(http.StatusSeeOther, "/fascicolo")
}

// checkCode verifies the code typed in the form against the code this
// browser session asked for. Guessing is bounded without any lock that an
// attacker could trigger against someone else: 5 tries per code and at most
// 10 codes a day per purpose make at most 50 guesses a day at a million
// possible codes.
func (h *Handler) checkCode(c echo.Context, purpose string) (db.OTP, error) {
	ctx := h.pctx(c)
	return h.DB.CheckOTP(ctx, h.patientSessions.GetInt64(ctx, keyOTP), purpose, h.otpMAC(normalizeCode(c.FormValue("code"))), h.now())
}

// errSendLimit says when the next code may be sent.
type errSendLimit struct{ next, now time.Time }

func (e errSendLimit) Error() string { return "send limit reached" }

var errSMSUnavailable = errors.New("no SMS gateway configured")

// otpNextSend returns when another code for purpose may be sent to
// mobile/account, or the zero time when one may be sent now. Login codes,
// which need the password first, are counted apart: codes that strangers
// can trigger (registration, reset, a contact change from their own
// account) share one budget per number, so they can neither use up the
// holder's login codes nor send a number more than 10 SMS a day.
func (h *Handler) otpNextSend(ctx context.Context, purpose, mobile string, accountID int64) (time.Time, error) {
	now := h.now()
	purposes := []string{db.OTPRegister, db.OTPReset, db.OTPContact}
	if purpose == db.OTPLogin {
		purposes = []string{db.OTPLogin}
	}
	times, err := h.DB.OTPSendTimes(ctx, purposes, mobile, accountID, now.Add(-otpDailyWindow))
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	if len(times) >= otpDailySendLimit {
		next = times[len(times)-otpDailySendLimit].Add(otpDailyWindow)
	}
	var recent []time.Time
	for _, t := range times {
		if t.After(now.Add(-otpSendWindow)) {
			recent = append(recent, t)
		}
	}
	if len(recent) >= otpSendLimit {
		if t := recent[len(recent)-otpSendLimit].Add(otpSendWindow); t.After(next) {
			next = t
		}
	}
	return next, nil
}

// Ways issueOTP sends a code.
const (
	// sendNow waits for the gateway and reports its failure: the person
	// asking is the account holder, nothing is revealed.
	sendNow = iota
	// sendNeutral sends in the background, so a request for an existing
	// account answers exactly like one for an unknown number, in time and
	// status, whether or not the gateway works.
	sendNeutral
	// sendNothing creates a code that is never sent (the neutral answer for
	// a number or email that already has an account).
	sendNothing
)

// issueOTP creates a code for purpose and, per mode, sends it by SMS to mobile.
func (h *Handler) issueOTP(c echo.Context, purpose, mobile string, accountID int64, mode int) (int64, error) {
	ctx := h.pctx(c)
	now := h.now()
	if next, err := h.otpNextSend(ctx, purpose, mobile, accountID); err != nil {
		return 0, err
	} else if !next.IsZero() {
		return 0, errSendLimit{next, now}
	}
	// Checked for every mode, so "no gateway" says nothing about accounts.
	if h.SMS == nil {
		return 0, errSMSUnavailable
	}
	code := sixDigits()
	id, err := h.DB.CreateOTP(ctx, db.OTP{Purpose: purpose, AccountID: accountID, Mobile: mobile, CreatedAt: now,
		ExpiresAt: now.Add(otpTTL[purpose])}, h.otpMAC(code))
	if err != nil {
		return 0, err
	}
	text := fmt.Sprintf("Referti online: il codice di verifica è %s. Scade tra %d minuti. Non comunicarlo a nessuno.",
		code, int(otpTTL[purpose].Minutes()))
	send := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		err := h.SMS.Send(ctx, notify.Message{To: mobile, Body: text})
		if err != nil {
			h.Log.Error("send otp sms", "purpose", purpose, "otp", id, "err", err)
		}
		return err
	}
	switch mode {
	case sendNothing:
	case sendNeutral:
		h.background.Add(1)
		go func() {
			defer h.background.Done()
			_ = send(context.WithoutCancel(ctx))
		}()
	default:
		if err := send(ctx); err != nil {
			return 0, errSMSUnavailable
		}
	}
	return id, nil
}

// Wait blocks until background SMS sends have finished; the server calls
// it on shutdown, before closing the database.
func (h *Handler) Wait() { h.background.Wait() }

func (h *Handler) otpMAC(code string) []byte { return h.Keys.MAC(sealbox.SMSCode, code) }

func sixDigits() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// otpSendMessage explains why a code was not sent.
func otpSendMessage(err error) (int, string, bool) {
	var lim errSendLimit
	switch {
	case errors.As(err, &lim):
		return http.StatusTooManyRequests, "Sono già stati inviati troppi codici a questo numero. Potrai chiederne un altro " +
			views.When(lim.next, lim.now) + ".", true
	case errors.Is(err, errSMSUnavailable):
		return http.StatusServiceUnavailable, "Al momento non è possibile inviare SMS. Riprova tra qualche minuto.", true
	}
	return 0, "", false
}

// otpCheckMessage explains a refused code.
func otpCheckMessage(err error) (int, string, bool) {
	switch {
	case errors.Is(err, db.ErrOTPWrong):
		return http.StatusUnprocessableEntity, "Il codice non è corretto. Controlla l'SMS e riprova.", true
	case errors.Is(err, db.ErrOTPExpired):
		return http.StatusUnprocessableEntity, "Il codice è scaduto. Chiedi un nuovo codice.", true
	case errors.Is(err, db.ErrOTPExhausted):
		return http.StatusUnprocessableEntity, "Troppi tentativi sbagliati: questo codice non è più valido. Chiedi un nuovo codice.", true
	case errors.Is(err, db.ErrOTPUsed), errors.Is(err, db.ErrNotFound):
		return http.StatusUnprocessableEntity, "Il codice non è più valido. Chiedi un nuovo codice.", true
	}
	return 0, "", false
}

// normalizeCode keeps the digits of a typed SMS code.
func normalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// Times go into the session as Unix nanoseconds: scs's gob codec would
// otherwise need time.Time registered globally.
func putSessionTime(sm *scs.SessionManager, ctx context.Context, key string, t time.Time) {
	sm.Put(ctx, key, t.UnixNano())
}

func sessionTime(sm *scs.SessionManager, ctx context.Context, key string) time.Time {
	n := sm.GetInt64(ctx, key)
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
