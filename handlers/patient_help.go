package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/views"
)

// help is the help page ("Domande frequenti"), public: the header, the
// errors that need it and the slip link to its questions.
func (h *Handler) help(c echo.Context) error {
	page := views.HelpPage{PChrome: h.pchrome(c, lang(c).T("help.title"))}
	page.Description = lang(c).T("help.meta_description")
	return h.render(c, http.StatusOK, views.Help(page))
}

// errorPageModel is the frame of a patient's error page. It reads no
// session: an unknown address matches no route, so no session was loaded;
// the account is known when the route's guard ran.
func (h *Handler) errorPageModel(c echo.Context, status int, msg string) views.ErrorPageModel {
	title := lang(c).T("errors.title")
	if status == http.StatusNotFound {
		title = lang(c).T("errors.not_found_title")
	}
	// No Path: the language switch of an error page goes home, so that the
	// 404 of another's report is the very page of a made-up address.
	return views.ErrorPageModel{PChrome: views.PChrome{Title: title, Account: currentAccount(c),
		RetentionDays: h.Config.RetentionDays, EmailAvailable: h.Email != nil}, Status: status, Message: msg}
}
