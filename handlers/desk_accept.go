package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/acceptance"
	"fse/internal/actcode"
	"fse/internal/sealbox"
	"fse/views"
)

var acceptFields = []string{"fiscal_code", "first_name", "last_name", "birth_date", "birth_place", "sex", "mobile", "email", "facility", "exams",
	"online_declined", "protected", "form_token", "slip_lang"}

func (h *Handler) acceptForm(c echo.Context) error {
	ctx := c.Request().Context()
	form := views.Form{Values: map[string]string{}}
	if id, err := strconv.ParseInt(c.QueryParam("patient"), 10, 64); err == nil {
		p, err := h.DB.Patient(ctx, id)
		if err != nil {
			return err
		}
		form.Values = map[string]string{
			"fiscal_code": p.FiscalCode, "first_name": p.FirstName, "last_name": p.LastName,
			"birth_date": p.BirthDate.UTC().Format(time.DateOnly), "birth_place": p.BirthPlace, "sex": p.Sex,
			"mobile": views.Phone(p.Mobile), "email": p.Email,
		}
	}
	// Each form carries a token of its own: sent twice, it leads to the
	// visit it created the first time.
	form.Values["form_token"] = newFormToken()
	return h.renderAccept(c, http.StatusOK, form)
}

func (h *Handler) renderAccept(c echo.Context, status int, form views.Form) error {
	facilities, err := h.DB.Facilities(c.Request().Context(), true)
	if err != nil {
		return err
	}
	if form.Values["facility"] == "" {
		id, err := h.defaultFacility(c, facilities)
		if err != nil {
			return err
		}
		form.Values["facility"] = strconv.FormatInt(id, 10)
	}
	ch := h.chrome(c, "Nuova accettazione")
	if len(facilities) == 0 {
		ch.Error = "Nessuna struttura attiva: un amministratore deve crearne una prima di registrare accettazioni."
	}
	return h.render(c, status, views.DeskAccept(views.AcceptPage{Chrome: ch, Form: form, Facilities: facilities,
		Protected: h.DB.ProtectedReports()}))
}

// formProblems shows each field problem, in Italian, next to its field.
func formProblems(c echo.Context, form views.Form, ps acceptance.Problems) {
	for _, p := range ps {
		form.Errors[p.Field] = problemText(c, p)
	}
}

// personInput reads the registry fields of a form.
func personInput(form views.Form) acceptance.Person {
	v := form.Values
	return acceptance.Person{FiscalCode: v["fiscal_code"], FirstName: v["first_name"], LastName: v["last_name"],
		BirthDate: v["birth_date"], BirthPlace: v["birth_place"], Sex: v["sex"]}
}

func (h *Handler) accept(c echo.Context) error {
	ctx := c.Request().Context()
	now := h.now()
	form := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, f := range acceptFields {
		form.Values[f] = c.FormValue(f)
	}
	// What the codice fiscale says fills the birth fields left empty, and
	// the form shows them again if anything else is wrong.
	filled, p, exams, problems := acceptance.CheckAtDesk(acceptance.Visit{Person: personInput(form), Mobile: form.Values["mobile"],
		Email: form.Values["email"], Exams: acceptance.Lines(form.Values["exams"])}, now)
	form.Values["birth_date"], form.Values["sex"], form.Values["birth_place"] = filled.BirthDate, filled.Sex, filled.BirthPlace
	formProblems(c, form, problems)
	if p.FiscalCode != "" {
		form.Values["fiscal_code"] = p.FiscalCode
	}
	facilityID, _ := strconv.ParseInt(form.Values["facility"], 10, 64)
	if f, err := h.DB.Facility(ctx, facilityID); err != nil || !f.Active {
		form.Errors["facility"] = "Scegli una struttura."
	}
	if form.HasErrors() {
		return h.renderAccept(c, http.StatusUnprocessableEntity, form)
	}

	token := form.Values["form_token"]
	if token == "" || len(token) > 64 {
		return echo.NewHTTPError(http.StatusBadRequest, "Il modulo di accettazione è incompleto: ricarica la pagina e riprova.")
	}
	declined := form.Values["online_declined"] == "1"
	var code string
	var mac []byte
	if !declined {
		code = actcode.New()
		mac = h.Keys.MAC(sealbox.ActivationCode, actcode.Normalize(code))
	}
	var visit db.Visit
	id, created, err := h.acceptForms.once(token, now, func() (int64, error) {
		var err error
		visit, err = h.DB.Accept(ctx, db.Acceptance{Patient: p, FacilityID: facilityID, Exams: exams, OnlineDeclined: declined, CodeMAC: mac,
			Protected: form.Values["protected"] == "1"}, staffActor(c), now)
		return visit.ID, err
	})
	switch {
	case err != nil:
		return err
	case !created:
		// The same form again (a double click, a resend): its first visit.
		return c.Redirect(http.StatusSeeOther, "/desk/visits/"+strconv.FormatInt(id, 10)+"/slip")
	case declined:
		h.flash(c, "Accettazione "+visit.AccessionNumber()+" registrata. Consegna online rifiutata: il referto sarà consegnato su carta.")
		return c.Redirect(http.StatusSeeOther, "/desk/visits/"+strconv.FormatInt(visit.ID, 10))
	}
	return h.showSlip(c, visit.ID, code, false)
}

// pathID reads the :id parameter; a malformed id is the same 404 as a missing one.
func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, db.ErrNotFound
	}
	return id, nil
}
