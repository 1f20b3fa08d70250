package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/codicefiscale"
	"fse/internal/phone"
	"fse/internal/sealbox"
	"fse/views"
)

var acceptFields = []string{"fiscal_code", "first_name", "last_name", "birth_date", "birth_place", "sex", "mobile", "email", "facility", "exams",
	"online_declined", "form_token"}

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
	ch := h.chrome(c, "Nuova accettazione")
	if len(facilities) == 0 {
		ch.Error = "Nessuna struttura attiva: un amministratore deve crearne una prima di registrare accettazioni."
	}
	return h.render(c, status, views.DeskAccept(views.AcceptPage{Chrome: ch, Form: form, Facilities: facilities}))
}

// cfMessages explains each codice fiscale error to the receptionist.
var cfMessages = map[error]string{
	codicefiscale.ErrLength: "Il codice fiscale deve avere 16 caratteri.",
	codicefiscale.ErrShape:  "Il codice fiscale non ha la forma corretta: lettere e cifre non sono al posto giusto.",
	codicefiscale.ErrMonth:  "Il codice fiscale contiene una lettera del mese di nascita non valida.",
	codicefiscale.ErrDay:    "Il codice fiscale contiene un giorno di nascita non valido.",
	codicefiscale.ErrCheck:  "Il codice fiscale non è corretto: il carattere di controllo non corrisponde. Verifica la trascrizione.",
}

func cfMessage(err error) string {
	for e, m := range cfMessages {
		if errors.Is(err, e) {
			return m
		}
	}
	return "Codice fiscale non valido."
}

// patientFromForm validates the registry fields shared by acceptance (and,
// later, family members); it fills errs and returns the patient.
func patientFromForm(form views.Form, now time.Time) db.Patient {
	v, errs := form.Values, form.Errors
	p := db.Patient{
		FirstName:  strings.TrimSpace(v["first_name"]),
		LastName:   strings.TrimSpace(v["last_name"]),
		BirthPlace: strings.TrimSpace(v["birth_place"]),
		Sex:        v["sex"],
	}
	for _, f := range []struct{ name, value, msg string }{
		{"first_name", p.FirstName, "Inserisci il nome."},
		{"last_name", p.LastName, "Inserisci il cognome."},
		{"birth_place", p.BirthPlace, "Inserisci il luogo di nascita."},
	} {
		switch {
		case f.value == "":
			errs[f.name] = f.msg
		case utf8.RuneCountInString(f.value) > 100:
			errs[f.name] = "Al massimo 100 caratteri."
		}
	}
	if p.Sex != "M" && p.Sex != "F" {
		errs["sex"] = "Indica il sesso."
	}
	birth, berr := time.Parse(time.DateOnly, v["birth_date"])
	switch {
	case v["birth_date"] == "":
		errs["birth_date"] = "Inserisci la data di nascita."
	case berr != nil:
		errs["birth_date"] = "Data di nascita non valida (gg/mm/aaaa)."
	case birth.After(now) || birth.Year() < now.Year()-130:
		errs["birth_date"] = "La data di nascita non è plausibile."
	}
	p.BirthDate = birth
	cf, err := codicefiscale.Parse(v["fiscal_code"])
	if err != nil {
		if strings.TrimSpace(v["fiscal_code"]) == "" {
			errs["fiscal_code"] = "Inserisci il codice fiscale."
		} else {
			errs["fiscal_code"] = cfMessage(err)
		}
		return p
	}
	p.FiscalCode = cf.String()
	form.Values["fiscal_code"] = p.FiscalCode
	// The codice fiscale encodes birth date and sex: a mismatch is a typing
	// error in one of the fields, and the desk must say which.
	if errs["birth_date"] == "" {
		enc := cf.BirthDate(now)
		if enc.Day() != birth.Day() || enc.Month() != birth.Month() || enc.Year()%100 != birth.Year()%100 {
			errs["birth_date"] = fmt.Sprintf("La data di nascita non corrisponde al codice fiscale (che indica il %s/…%02d). "+
				"Controlla la data o il codice fiscale.", enc.Format("02/01"), enc.Year()%100)
		}
	}
	if errs["sex"] == "" && cf.Sex() != p.Sex {
		errs["sex"] = "Il sesso non corrisponde al codice fiscale. Controlla il sesso o il codice fiscale."
	}
	return p
}

func (h *Handler) accept(c echo.Context) error {
	ctx := c.Request().Context()
	now := h.now()
	form := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, f := range acceptFields {
		form.Values[f] = c.FormValue(f)
	}
	p := patientFromForm(form, now)

	mobile, err := phone.NormalizeMobile(form.Values["mobile"])
	switch {
	case strings.TrimSpace(form.Values["mobile"]) == "":
		form.Errors["mobile"] = "Inserisci il numero di cellulare."
	case errors.Is(err, phone.ErrNotMobile):
		form.Errors["mobile"] = "Questo numero non è un cellulare: serve un cellulare per ricevere gli SMS del servizio."
	case err != nil:
		form.Errors["mobile"] = "Numero di cellulare non valido."
	}
	p.Mobile = mobile
	if email := strings.TrimSpace(form.Values["email"]); email != "" {
		addr, err := mail.ParseAddress(email)
		if err != nil || addr.Address != email || len(email) > 254 {
			form.Errors["email"] = "Indirizzo email non valido."
		}
		p.Email = strings.ToLower(email)
	}
	facilityID, _ := strconv.ParseInt(form.Values["facility"], 10, 64)
	if f, err := h.DB.Facility(ctx, facilityID); err != nil || !f.Active {
		form.Errors["facility"] = "Scegli una struttura."
	}
	var exams []string
	for _, line := range strings.Split(form.Values["exams"], "\n") {
		if line = strings.TrimSpace(line); line != "" {
			exams = append(exams, line)
		}
	}
	switch {
	case len(exams) == 0:
		form.Errors["exams"] = "Indica almeno un esame o una visita."
	case len(exams) > 30:
		form.Errors["exams"] = "Al massimo 30 righe."
	}
	for _, e := range exams {
		if utf8.RuneCountInString(e) > 200 {
			form.Errors["exams"] = "Ogni riga può avere al massimo 200 caratteri."
		}
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
		visit, err = h.DB.Accept(ctx, db.Acceptance{Patient: p, FacilityID: facilityID, Exams: exams, OnlineDeclined: declined, CodeMAC: mac},
			staffActor(c), now)
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
