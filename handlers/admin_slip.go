package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/acceptance"
	"fse/views"
)

// slipContactFields are the form's fields, in the order of the page.
var slipContactFields = []string{"help_phone", "help_email", "controller", "dpo"}

func (h *Handler) slipContactsForm(c echo.Context) error {
	sc, err := h.DB.SlipContacts(c.Request().Context())
	if err != nil {
		return err
	}
	form := views.Form{Values: map[string]string{"help_phone": sc.HelpPhone, "help_email": sc.HelpEmail,
		"controller": sc.Controller, "dpo": sc.DPO}}
	return h.renderSlipContacts(c, http.StatusOK, form, sc)
}

func (h *Handler) renderSlipContacts(c echo.Context, status int, form views.Form, saved db.SlipContacts) error {
	return h.render(c, status, views.AdminSlipContacts(views.SlipContactsPage{Chrome: h.chrome(c, "Modulo di ritiro"),
		Form: form, Saved: saved}))
}

// saveSlipContacts stores what the pickup slip prints for the patient at
// home: help contacts, the data controller's and the DPO's.
func (h *Handler) saveSlipContacts(c echo.Context) error {
	ctx := c.Request().Context()
	form := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, f := range slipContactFields {
		// One line each: the slip prints them in a line of their own.
		form.Values[f] = strings.Join(strings.Fields(c.FormValue(f)), " ")
		if utf8.RuneCountInString(form.Values[f]) > db.MaxSlipContactLen {
			form.Errors[f] = fmt.Sprintf("Al massimo %d caratteri.", db.MaxSlipContactLen)
		}
	}
	if e := strings.ToLower(form.Values["help_email"]); e != "" && !acceptance.ValidEmail(e) {
		form.Errors["help_email"] = "Indirizzo email non valido."
	}
	if form.HasErrors() {
		saved, err := h.DB.SlipContacts(ctx)
		if err != nil {
			return err
		}
		return h.renderSlipContacts(c, http.StatusUnprocessableEntity, form, saved)
	}
	sc := db.SlipContacts{HelpPhone: form.Values["help_phone"], HelpEmail: strings.ToLower(form.Values["help_email"]),
		Controller: form.Values["controller"], DPO: form.Values["dpo"]}
	if err := h.DB.SetSlipContacts(ctx, sc, staffActor(c), h.now()); err != nil {
		return err
	}
	h.flash(c, "Contatti del modulo di ritiro salvati: compaiono sui prossimi moduli stampati.")
	return c.Redirect(http.StatusSeeOther, "/desk/admin/slip")
}
