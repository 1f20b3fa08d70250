package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/pwpolicy"
	"fse/views"
)

var (
	facilityCodePattern = regexp.MustCompile(`^[A-Z0-9]{2,6}$`)
)

func (h *Handler) staffList(c echo.Context) error {
	return h.renderStaff(c, http.StatusOK, views.Form{Values: map[string]string{}})
}

func (h *Handler) renderStaff(c echo.Context, status int, form views.Form) error {
	ctx := c.Request().Context()
	members, err := h.DB.ListStaff(ctx)
	if err != nil {
		return err
	}
	facilities, err := h.DB.Facilities(ctx, true)
	if err != nil {
		return err
	}
	facilityOf, err := h.DB.StaffFacilities(ctx)
	if err != nil {
		return err
	}
	return h.render(c, status, views.AdminStaff(views.StaffPage{Chrome: h.chrome(c, "Personale"), Members: members, Form: form,
		Policy: h.Config.StaffMFA, Facilities: facilities, FacilityOf: facilityOf}))
}

func (h *Handler) staffCreate(c echo.Context) error {
	ctx := c.Request().Context()
	form := views.Form{Values: map[string]string{
		"username":     strings.TrimSpace(c.FormValue("username")),
		"display_name": strings.TrimSpace(c.FormValue("display_name")),
		"role":         c.FormValue("role"),
		"facility":     c.FormValue("facility"),
	}, Errors: map[string]string{}}
	facility, _ := strconv.ParseInt(form.Values["facility"], 10, 64)
	pw := c.FormValue("password")
	if !db.ValidUsername(form.Values["username"]) {
		form.Errors["username"] = "Da 2 a 40 caratteri: lettere, numeri, punto, trattino o trattino basso."
	}
	if utf8.RuneCountInString(form.Values["display_name"]) > 100 {
		form.Errors["display_name"] = "Al massimo 100 caratteri."
	}
	if form.Values["role"] != db.RoleAdmin && form.Values["role"] != db.RoleReception {
		form.Errors["role"] = "Scegli un ruolo."
	}
	if facility > 0 {
		if f, err := h.DB.Facility(ctx, facility); err != nil || !f.Active {
			form.Errors["facility"] = "Scegli una struttura attiva."
		}
	}
	var weak *pwpolicy.Problem
	if err := pwpolicy.CheckStaff(pw, form.Values["username"], form.Values["display_name"]); errors.As(err, &weak) {
		form.Errors["password"] = weak.Reason
	} else if err != nil {
		return err
	}
	if form.HasErrors() {
		return h.renderStaff(c, http.StatusUnprocessableEntity, form)
	}
	hash, err := h.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	id, err := h.DB.CreateStaff(ctx, db.Staff{Username: form.Values["username"], DisplayName: form.Values["display_name"],
		Role: form.Values["role"], PasswordHash: hash}, staffActor(c), h.now())
	if errors.Is(err, db.ErrConflict) {
		form.Errors["username"] = "Esiste già un utente con questo nome."
		return h.renderStaff(c, http.StatusConflict, form)
	}
	if err != nil {
		return err
	}
	if facility > 0 {
		if err := h.DB.SetStaffFacility(ctx, id, facility, staffActor(c), h.now()); err != nil {
			return err
		}
	}
	h.flash(c, "Utente «"+form.Values["username"]+"» creato.")
	return c.Redirect(http.StatusSeeOther, "/desk/admin/staff")
}

func (h *Handler) staffSetActive(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if id == currentStaff(c).ID {
		return echo.NewHTTPError(http.StatusConflict, "Non puoi disattivare il tuo stesso utente.")
	}
	active := c.FormValue("active") == "1"
	if err := h.DB.SetStaffActive(c.Request().Context(), id, active, staffActor(c), h.now()); err != nil {
		return err
	}
	if active {
		h.flash(c, "Utente riattivato.")
	} else {
		h.flash(c, "Utente disattivato: le sue sessioni sono terminate.")
	}
	return c.Redirect(http.StatusSeeOther, "/desk/admin/staff")
}

func (h *Handler) facilityList(c echo.Context) error {
	return h.renderFacilities(c, http.StatusOK, views.Form{Values: map[string]string{}})
}

func (h *Handler) renderFacilities(c echo.Context, status int, form views.Form) error {
	fs, err := h.DB.Facilities(c.Request().Context(), false)
	if err != nil {
		return err
	}
	return h.render(c, status, views.AdminFacilities(views.FacilitiesPage{Chrome: h.chrome(c, "Strutture"), Facilities: fs, Form: form}))
}

func (h *Handler) facilityCreate(c echo.Context) error {
	form := views.Form{Values: map[string]string{
		"code":    strings.ToUpper(strings.TrimSpace(c.FormValue("code"))),
		"name":    strings.TrimSpace(c.FormValue("name")),
		"address": strings.TrimSpace(c.FormValue("address")),
		"phone":   strings.TrimSpace(c.FormValue("phone")),
	}, Errors: map[string]string{}}
	if !facilityCodePattern.MatchString(form.Values["code"]) {
		form.Errors["code"] = "Da 2 a 6 lettere o cifre."
	}
	if form.Values["name"] == "" {
		form.Errors["name"] = "Inserisci il nome della struttura."
	}
	for _, f := range []string{"name", "address", "phone"} {
		if utf8.RuneCountInString(form.Values[f]) > 200 {
			form.Errors[f] = "Al massimo 200 caratteri."
		}
	}
	if form.HasErrors() {
		return h.renderFacilities(c, http.StatusUnprocessableEntity, form)
	}
	_, err := h.DB.CreateFacility(c.Request().Context(), db.Facility{Code: form.Values["code"], Name: form.Values["name"],
		Address: form.Values["address"], Phone: form.Values["phone"]}, staffActor(c), h.now())
	if errors.Is(err, db.ErrConflict) {
		form.Errors["code"] = "Esiste già una struttura con questa sigla."
		return h.renderFacilities(c, http.StatusConflict, form)
	}
	if err != nil {
		return err
	}
	h.flash(c, "Struttura «"+form.Values["name"]+"» creata.")
	return c.Redirect(http.StatusSeeOther, "/desk/admin/facilities")
}

func (h *Handler) facilitySetActive(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := h.DB.SetFacilityActive(c.Request().Context(), id, c.FormValue("active") == "1", staffActor(c), h.now()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/desk/admin/facilities")
}

func (h *Handler) auditList(c echo.Context) error {
	q := c.QueryParams()
	form := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, k := range []string{"action", "actor", "outcome", "from", "to", "object"} {
		form.Values[k] = strings.TrimSpace(q.Get(k))
	}
	f := db.AuditFilter{Action: form.Values["action"], Actor: form.Values["actor"], Outcome: form.Values["outcome"], Limit: 100}
	loc := db.Rome
	if v := form.Values["from"]; v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			form.Errors["from"] = "Data non valida."
		}
		f.From = t
	}
	if v := form.Values["to"]; v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			form.Errors["to"] = "Data non valida."
		}
		f.To = t.AddDate(0, 0, 1)
	}
	if v := form.Values["object"]; v != "" {
		typ, idText, _ := strings.Cut(v, ":")
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			form.Errors["object"] = "Usa la forma tipo:numero, per esempio visit:12."
		}
		f.ObjectType, f.ObjectID = typ, id
	}
	f.BeforeID, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	status := http.StatusOK
	var events []db.AuditEvent
	if form.HasErrors() {
		status = http.StatusUnprocessableEntity
	} else {
		var err error
		events, err = h.DB.ListAudit(c.Request().Context(), f)
		if errors.Is(err, db.ErrSearchTooLong) {
			status = http.StatusUnprocessableEntity
		} else if err != nil {
			return err
		}
	}
	page := views.AuditPage{Chrome: h.chrome(c, "Registro accessi"), Filter: form, Events: events}
	if status == http.StatusUnprocessableEntity && !form.HasErrors() {
		page.Error = fmt.Sprintf("Filtro troppo lungo: al massimo %d caratteri per l'azione e per l'utente.", db.MaxSearchLen)
	}
	if len(events) == f.Limit {
		page.NextBefore = events[len(events)-1].ID
		next := url.Values{}
		for k, v := range form.Values {
			if v != "" {
				next.Set(k, v)
			}
		}
		next.Set("before", strconv.FormatInt(page.NextBefore, 10))
		page.NextQuery = next.Encode()
	}
	return h.render(c, status, views.AdminAudit(page))
}

func (h *Handler) settings(c echo.Context) error {
	return h.render(c, http.StatusOK, views.AdminSettings(views.SettingsPage{Chrome: h.chrome(c, "Impostazioni"),
		Settings: h.Config.Settings, Warnings: h.Config.Warnings}))
}
