package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/intake"
	"fse/views"
)

func (h *Handler) integrationList(c echo.Context) error {
	return h.renderIntegrations(c, http.StatusOK, views.Form{Values: map[string]string{"scope_visits": "1", "scope_reports": "1"}})
}

func (h *Handler) renderIntegrations(c echo.Context, status int, form views.Form) error {
	ctx := c.Request().Context()
	list, err := h.DB.Integrations(ctx)
	if err != nil {
		return err
	}
	facilities, err := h.DB.Facilities(ctx, true)
	if err != nil {
		return err
	}
	failures, err := h.DB.IntegrationAuthFailures(ctx, h.now().AddDate(0, 0, -1))
	if err != nil {
		return err
	}
	return h.render(c, status, views.AdminIntegrations(views.IntegrationsPage{Chrome: h.chrome(c, "Integrazioni"), Integrations: list,
		Facilities: facilities, Failures: failures, Form: form, BaseURL: h.Config.BaseURL}))
}

// integrationCreate creates an integration; its token is shown once, on
// the page the redirect leads to.
func (h *Handler) integrationCreate(c echo.Context) error {
	form := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, f := range []string{"name", "facility", "scope_visits", "scope_reports", "allow_cidr", "auto_publish", "mllp"} {
		form.Values[f] = strings.TrimSpace(c.FormValue(f))
	}
	var scopes []string
	if form.Values["scope_visits"] == "1" {
		scopes = append(scopes, db.ScopeVisits)
	}
	if form.Values["scope_reports"] == "1" {
		scopes = append(scopes, db.ScopeReports)
	}
	if len(scopes) == 0 {
		form.Errors["scope"] = "Scegli almeno un ambito."
	}
	i, problems := intake.CheckIntegration(intake.IntegrationInput{Name: form.Values["name"], Scopes: strings.Join(scopes, ","),
		AllowCIDRs: form.Values["allow_cidr"], AutoPublish: form.Values["auto_publish"] == "1", MLLP: form.Values["mllp"] == "1"})
	formProblems(c, form, problems)
	facilityID, _ := strconv.ParseInt(form.Values["facility"], 10, 64)
	if f, err := h.DB.Facility(c.Request().Context(), facilityID); err != nil || !f.Active {
		form.Errors["facility"] = "Scegli una struttura."
	}
	if form.HasErrors() {
		return h.renderIntegrations(c, http.StatusUnprocessableEntity, form)
	}
	i.FacilityID = facilityID
	token, err := intake.CreateIntegration(c.Request().Context(), h.DB, i, staffActor(c), h.now())
	if errors.Is(err, db.ErrConflict) {
		form.Errors["name"] = "Esiste già un'integrazione con questo nome."
		return h.renderIntegrations(c, http.StatusConflict, form)
	} else if errors.Is(err, db.ErrMLLPNetworks) {
		form.Errors["allow_cidr"] = "Queste reti si sovrappongono a quelle di un'altra integrazione HL7 (MLLP): ogni collegamento deve corrispondere a una sola integrazione."
		return h.renderIntegrations(c, http.StatusConflict, form)
	} else if err != nil {
		return err
	}
	created, err := h.DB.IntegrationByName(c.Request().Context(), i.Name)
	if err != nil {
		return err
	}
	h.secrets.hold(secretKey{currentStaff(c).ID, "integration", created.ID}, token, false, h.now())
	return c.Redirect(http.StatusSeeOther, "/desk/admin/integrations/"+strconv.FormatInt(created.ID, 10)+"/token")
}

// integrationToken shows a new integration's token, once.
func (h *Handler) integrationToken(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	held, ok := h.secrets.take(secretKey{currentStaff(c).ID, "integration", id}, h.now())
	if !ok {
		h.flash(c, "Il token si vede una sola volta, subito dopo la creazione. Se è andato perso, revoca l'integrazione e creane una nuova.")
		return c.Redirect(http.StatusSeeOther, "/desk/admin/integrations")
	}
	var in db.Integration
	list, err := h.DB.Integrations(c.Request().Context())
	if err != nil {
		return err
	}
	for _, i := range list {
		if i.ID == id {
			in = i
		}
	}
	return h.render(c, http.StatusOK, views.IntegrationToken(views.IntegrationTokenPage{Chrome: h.chrome(c, "Integrazione creata"),
		Integration: in, Token: held.value, BaseURL: h.Config.BaseURL}))
}

func (h *Handler) integrationRevoke(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := h.DB.RevokeIntegration(c.Request().Context(), id, staffActor(c), h.now()); err != nil {
		return err
	}
	h.flash(c, "Integrazione revocata: il suo token non funziona più.")
	return c.Redirect(http.StatusSeeOther, "/desk/admin/integrations")
}
