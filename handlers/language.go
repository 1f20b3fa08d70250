package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fse/internal/locale"
)

// langCookie remembers the language a visitor chose with the "English /
// Italiano" link, for a year. It holds "it" or "en" and nothing else.
const langCookie = "fse_lang"

// language puts the request's language in its context: the one the
// visitor chose (the cookie), else the browser's (Accept-Language), else
// Italian. A logged-in patient without the cookie gets the account's
// language (requirePatient); the desk is always Italian (deskItalian).
func (h *Handler) language(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		setLang(c, requestLang(c.Request()))
		return next(c)
	}
}

// requestLang is the language a request asks for, before any account.
func requestLang(r *http.Request) locale.Lang {
	if l, ok := chosenLang(r); ok {
		return l
	}
	return locale.Negotiate(r.Header.Get("Accept-Language"))
}

// chosenLang is the language the visitor chose with the link, if any.
func chosenLang(r *http.Request) (locale.Lang, bool) {
	if ck, err := r.Cookie(langCookie); err == nil {
		return locale.Parse(ck.Value)
	}
	return locale.Default, false
}

func setLang(c echo.Context, l locale.Lang) {
	r := c.Request()
	c.SetRequest(r.WithContext(locale.With(r.Context(), l)))
}

// deskItalian keeps the staff pages in Italian, whatever the browser asks.
func deskItalian(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		setLang(c, locale.Italian)
		return next(c)
	}
}

// accountLanguage switches a logged-in request to the account's language
// unless the visitor chose one on this browser.
func accountLanguage(c echo.Context, lang string) {
	if _, chosen := chosenLang(c.Request()); chosen {
		return
	}
	if l, ok := locale.Parse(lang); ok {
		setLang(c, l)
	}
}

// lang is the language of the request, for handlers that write words
// outside a template (flash notices, form errors).
func lang(c echo.Context) *locale.Printer { return locale.From(c.Request().Context()) }

// switchLanguage is the "English / Italiano" link: it remembers the choice
// in a cookie, records it on the account of a logged-in patient (so that
// SMS and emails follow) and goes back to the page it came from.
func (h *Handler) switchLanguage(c echo.Context) error {
	l, ok := locale.Parse(c.Param("lang"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	c.SetCookie(&http.Cookie{
		Name: langCookie, Value: string(l), Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	if id := h.patientSessions.GetInt64(h.pctx(c), keyAccount); id != 0 {
		if err := h.DB.SetAccountLang(h.pctx(c), id, string(l)); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, localPath(c.QueryParam("torna")))
}

// localPath is back a page of this site: a path, never another host
// ("//evil.example", "/\evil.example") nor a scheme, and without control
// characters: browsers drop tabs and newlines from an address, so
// "/\t/evil.example" would become "//evil.example".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/"
	}
	return p
}
