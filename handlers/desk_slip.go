package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"fse/internal/actcode"
	"fse/internal/locale"
	"fse/internal/qrsvg"
	"fse/internal/sealbox"
	"fse/views"
)

// How long a new secret waits in memory for its one showing, and how long
// a submitted acceptance form is remembered.
const (
	slipCodeTTL  = 10 * time.Minute
	formTokenTTL = 12 * time.Hour
)

// onceSecrets holds each new secret (an activation code, an integration's
// token) in memory, never on disk, for the one showing of the page after
// the redirect that follows its POST (post/redirect/get): a reload finds it
// gone, and a reload never resubmits the form. A secret is held for the
// staff member who asked, for a few minutes.
type onceSecrets struct {
	mu sync.Mutex
	m  map[secretKey]heldSecret
}

// secretKey names a held secret: whose, of what kind, for which object.
type secretKey struct {
	staffID int64
	kind    string
	id      int64
}

type heldSecret struct {
	value string
	// reprint marks a slip printed again with a new code.
	reprint bool
	// lang is the language the slip is printed in.
	lang  locale.Lang
	until time.Time
}

func (s *onceSecrets) hold(k secretKey, value string, reprint bool, now time.Time) {
	s.put(k, heldSecret{value: value, reprint: reprint}, now)
}

// holdSlip holds a slip's code with the language the slip is printed in.
func (s *onceSecrets) holdSlip(k secretKey, value string, reprint bool, lang locale.Lang, now time.Time) {
	s.put(k, heldSecret{value: value, reprint: reprint, lang: lang}, now)
}

func (s *onceSecrets) put(k secretKey, held heldSecret, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[secretKey]heldSecret{}
	}
	for key, h := range s.m {
		if !now.Before(h.until) {
			delete(s.m, key)
		}
	}
	held.until = now.Add(slipCodeTTL)
	s.m[k] = held
}

func (s *onceSecrets) take(k secretKey, now time.Time) (heldSecret, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.m[k]
	delete(s.m, k)
	return h, ok && now.Before(h.until)
}

// formTokens remembers which acceptance forms were submitted and the visit
// each created, so a double click or a form sent again leads to the first
// visit instead of creating a second one. mu also serialises acceptances,
// so two copies of one form sent at once cannot both pass the check.
type formTokens struct {
	mu   sync.Mutex
	used map[string]usedToken
}

type usedToken struct {
	visitID int64
	at      time.Time
}

func newFormToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// once runs create unless token was already used, and returns the visit the
// token belongs to.
func (f *formTokens) once(token string, now time.Time, create func() (int64, error)) (int64, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.used[token]; ok {
		return u.visitID, false, nil
	}
	id, err := create()
	if err != nil {
		return 0, false, err
	}
	if f.used == nil {
		f.used = map[string]usedToken{}
	}
	for t, u := range f.used {
		if now.Sub(u.at) > formTokenTTL {
			delete(f.used, t)
		}
	}
	f.used[token] = usedToken{visitID: id, at: now}
	return id, true, nil
}

// showSlip holds the new code, and the language the form asked the slip
// in, for the slip's one showing and redirects to it.
func (h *Handler) showSlip(c echo.Context, visitID int64, code string, reprint bool) error {
	h.secrets.holdSlip(secretKey{currentStaff(c).ID, "slip", visitID}, code, reprint, slipLang(c), h.now())
	return c.Redirect(http.StatusSeeOther, "/desk/visits/"+strconv.FormatInt(visitID, 10)+"/slip")
}

// slip shows the pickup slip with the code held for this showing; without
// one (a reload, another desk) it explains that a reprint issues a new code.
func (h *Handler) slip(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	visit, err := h.DB.Visit(ctx, id)
	if err != nil {
		return err
	}
	patient, err := h.DB.Patient(ctx, visit.PatientID)
	if err != nil {
		return err
	}
	held, ok := h.secrets.take(secretKey{currentStaff(c).ID, "slip", id}, h.now())
	if !ok {
		return h.render(c, http.StatusOK, views.SlipShown(views.SlipPage{Chrome: h.chrome(c, "Modulo per il ritiro referti"),
			Patient: patient, Visit: visit}))
	}
	facility, err := h.DB.Facility(ctx, visit.FacilityID)
	if err != nil {
		return err
	}
	contacts, err := h.DB.SlipContacts(ctx)
	if err != nil {
		return err
	}
	// The code travels in the fragment: browsers never send it to a server,
	// so it stays out of access logs and Referer headers.
	qr, err := qrsvg.Render(h.Config.BaseURL+"/attiva#codice="+held.value, locale.For(held.lang).T("slip.qr_alt"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.Slip(views.SlipPage{
		Chrome: h.chrome(c, "Modulo per il ritiro referti"), Facility: facility, Patient: patient, Visit: visit, Code: held.value,
		PortalURL: h.Config.BaseURL, QR: qr, RetentionDays: h.Config.RetentionDays, Reprint: held.reprint, Contacts: contacts,
		Lang: held.lang,
	}))
}

// slipLang is the language the desk chose for the slip ("Lingua del
// modulo" on the acceptance and reprint forms): Italian unless English.
func slipLang(c echo.Context) locale.Lang {
	l, _ := locale.Parse(c.FormValue("slip_lang"))
	return l
}

// reprint revokes the visit's unused codes and issues a new one, shown on
// the slip after the redirect.
func (h *Handler) reprint(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	code := actcode.New()
	if err := h.DB.ReissueCode(c.Request().Context(), id, h.Keys.MAC(sealbox.ActivationCode, actcode.Normalize(code)), staffActor(c), h.now()); err != nil {
		return err
	}
	return h.showSlip(c, id, code, true)
}
