package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/acceptance"
	"fse/views"
)

func (h *Handler) familyPage(c echo.Context, status int, form views.Form) error {
	rels, err := h.DB.Relatives(h.pctx(c), currentAccount(c).ID)
	if err != nil {
		return err
	}
	return h.render(c, status, views.Family(views.FamilyPage{PChrome: h.pchrome(c, lang(c).T("family.title")), Relatives: rels, Form: form}))
}

func (h *Handler) family(c echo.Context) error {
	return h.familyPage(c, http.StatusOK, views.Form{Values: map[string]string{}, Errors: map[string]string{}})
}

// addRelative registers a relative with the same checks as the desk: the
// codice fiscale must be valid and agree with birth date and sex.
func (h *Handler) addRelative(c echo.Context) error {
	a := currentAccount(c)
	form := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, f := range []string{"fiscal_code", "first_name", "last_name", "birth_date", "birth_place", "sex"} {
		form.Values[f] = c.FormValue(f)
	}
	p, problems := acceptance.CheckPerson(personInput(form), h.now())
	formProblems(c, form, problems)
	if p.FiscalCode != "" {
		form.Values["fiscal_code"] = p.FiscalCode
	}
	if form.HasErrors() {
		return h.familyPage(c, http.StatusUnprocessableEntity, form)
	}
	id, err := h.DB.CreateRelative(h.pctx(c), db.Relative{AccountID: a.ID, FiscalCode: p.FiscalCode, FirstName: p.FirstName,
		LastName: p.LastName, BirthDate: p.BirthDate, BirthPlace: p.BirthPlace, Sex: p.Sex}, patientActor(c, a.ID), h.now())
	if errors.Is(err, db.ErrConflict) {
		form.Errors["fiscal_code"] = lang(c).T("family.already_added")
		return h.familyPage(c, http.StatusConflict, form)
	}
	if err != nil {
		return err
	}
	h.pflash(c, lang(c).T("family.added", "Name", p.FirstName+" "+p.LastName))
	return c.Redirect(http.StatusSeeOther, "/profilo/familiari/"+itoa(id)+"/attiva")
}

func (h *Handler) relative(c echo.Context) (db.Relative, error) {
	id, err := pathID(c)
	if err != nil {
		return db.Relative{}, err
	}
	return h.DB.Relative(h.pctx(c), currentAccount(c).ID, id)
}

func (h *Handler) relativeActivateForm(c echo.Context) error {
	r, err := h.relative(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.RelativeActivate(views.RelativeActivatePage{PChrome: h.pchrome(c, lang(c).T("family.activate_title")),
		Relative: r, Form: views.Form{Values: map[string]string{"fiscal_code": r.FiscalCode}}}))
}

// relativeActivate activates a relative's dossier: allowed only if the desk
// registered the relative with the holder's mobile; otherwise the page
// explains the separate-account alternative.
func (h *Handler) relativeActivate(c echo.Context) error {
	r, err := h.relative(c)
	if err != nil {
		return err
	}
	form, res, err := h.runActivation(c, r.ID)
	if err != nil {
		return err
	}
	if res.done {
		h.pflash(c, lang(c).T("family.activated", "FirstName", r.FirstName))
		linked, err := h.DB.Relative(h.pctx(c), r.AccountID, r.ID)
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/fascicolo?p="+itoa(linked.PatientID))
	}
	page := views.RelativeActivatePage{PChrome: h.pchrome(c, lang(c).T("family.activate_title")), Relative: r, Form: form,
		SeparateAccount: res.separateAccount}
	page.Error, page.Help = res.msg, res.help
	return h.render(c, res.status, views.RelativeActivate(page))
}

func (h *Handler) removeRelativeForm(c echo.Context) error {
	r, err := h.relative(c)
	if err != nil {
		return err
	}
	p := lang(c)
	return h.render(c, http.StatusOK, views.Confirm(views.ConfirmPage{PChrome: h.pchrome(c, p.T("family.remove_title")),
		Heading: p.T("family.remove_heading", "Name", r.FirstName+" "+r.LastName),
		Lines:   []string{p.T("family.remove_line")},
		Action:  "/profilo/familiari/" + itoa(r.ID) + "/rimuovi", Button: p.T("family.remove_button"), Back: "/profilo/familiari"}))
}

func (h *Handler) removeRelative(c echo.Context) error {
	r, err := h.relative(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	if err := h.DB.RemoveRelative(h.pctx(c), a.ID, r.ID, patientActor(c, a.ID), h.now()); err != nil {
		return err
	}
	h.pflash(c, lang(c).T("family.removed", "Name", r.FirstName+" "+r.LastName))
	return c.Redirect(http.StatusSeeOther, "/profilo/familiari")
}
