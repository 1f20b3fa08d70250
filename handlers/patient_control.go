package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/views"
)

// linkedDossier returns the account's dossier named by :id; another
// patient's is the same 404 as a made-up id.
func (h *Handler) linkedDossier(c echo.Context) (db.DossierLink, error) {
	id, err := pathID(c)
	if err != nil {
		return db.DossierLink{}, err
	}
	links, err := h.DB.DossierLinks(h.pctx(c), currentAccount(c).ID)
	if err != nil {
		return db.DossierLink{}, err
	}
	for _, l := range links {
		if l.Patient.ID == id {
			return l, nil
		}
	}
	return db.DossierLink{}, db.ErrNotFound
}

func (h *Handler) confirmDossier(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		l, err := h.linkedDossier(c)
		if err != nil {
			return err
		}
		return h.render(c, http.StatusOK, views.Confirm(h.dossierConfirmPage(c, l, action)))
	}
}

func (h *Handler) dossierConfirmPage(c echo.Context, l db.DossierLink, action string) views.ConfirmPage {
	name := l.Patient.FirstName + " " + l.Patient.LastName
	page := views.ConfirmPage{PChrome: h.pchrome(c, "Fascicolo di "+name), Action: "/fascicolo/" + itoa(l.Patient.ID) + "/" + action,
		Back: "/fascicolo?p=" + itoa(l.Patient.ID), Form: views.Form{Errors: map[string]string{}}}
	switch action {
	case "disattiva":
		page.Heading = "Disattivare il servizio online per il fascicolo di " + name + "?"
		page.Lines = []string{
			"Il consenso alla consultazione online sarà revocato: i prossimi referti saranno consegnati solo su carta, non riceverà avvisi e i referti già online non saranno più visibili.",
			"Potrà riattivare il servizio quando vuole, dando di nuovo il consenso.",
		}
		page.Button = "Disattiva"
	case "riattiva":
		page.Heading = "Riattivare il servizio online per il fascicolo di " + name + "?"
		page.Lines = []string{"Per riattivare il servizio occorre di nuovo il consenso all'informativa."}
		page.Button = "Riattiva"
		page.DossierConsent = true
	case "revoca":
		page.Heading = "Togliere agli altri account l'accesso al fascicolo di " + name + "?"
		page.Lines = []string{
			"Gli altri account che vedono questo fascicolo (per esempio quello di un genitore) non lo vedranno più e non riceveranno più avvisi.",
			"Il suo accesso non cambia.",
		}
		page.Button = "Togli l'accesso agli altri"
	case "scollega":
		page.Heading = "Scollegare il fascicolo di " + name + " dal suo account?"
		page.Lines = []string{
			"Non vedrà più questo fascicolo e non riceverà avvisi. I referti restano per il paziente e per gli altri account autorizzati, e su carta.",
			"Per vederlo di nuovo servirà un nuovo codice di attivazione.",
		}
		if l.OthersSeeOwnDossier() {
			page.Lines = append(page.Lines, "Attenzione: altri account vedono questo fascicolo e, senza il suo account, potranno "+
				"riattivare il servizio o eliminarne i referti. Se non vuole, prima tolga loro l'accesso.")
		}
		page.Button = "Scollega"
	case "azzera":
		page.Heading = "Azzerare lo storico del fascicolo di " + name + "?"
		page.Lines = []string{
			"Tutti i referti online di questo fascicolo e lo storico dei loro scaricamenti saranno eliminati definitivamente, anche per gli altri account che gestiscono il fascicolo.",
			"I referti restano ritirabili su carta presso la struttura. L'operazione non si può annullare.",
		}
		page.Button = "Azzera lo storico"
	}
	return page
}

func (h *Handler) disableDossier(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	if err := h.DB.SetOnlineDelivery(h.pctx(c), a.ID, l.Patient.ID, false, "", patientActor(c, a.ID), h.now()); err != nil {
		return err
	}
	h.pflash(c, "Servizio online disattivato: i referti saranno consegnati su carta.")
	return c.Redirect(http.StatusSeeOther, "/fascicolo?p="+itoa(l.Patient.ID))
}

func (h *Handler) enableDossier(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	if c.FormValue("consent") != "1" {
		page := h.dossierConfirmPage(c, l, "riattiva")
		page.Form.Errors["consent"] = "Per riattivare il servizio occorre il consenso all'informativa."
		return h.render(c, http.StatusUnprocessableEntity, views.Confirm(page))
	}
	if err := h.DB.SetOnlineDelivery(h.pctx(c), a.ID, l.Patient.ID, true, DossierPrivacyVersion, patientActor(c, a.ID), h.now()); err != nil {
		return notPatient(err)
	}
	h.pflash(c, "Servizio online riattivato.")
	return c.Redirect(http.StatusSeeOther, "/fascicolo?p="+itoa(l.Patient.ID))
}

// resetDossier deletes every online report of the dossier for good, then
// truncates the WAL so no copy of the pages survives there.
func (h *Handler) resetDossier(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	n, err := h.DB.ResetDossier(h.pctx(c), a.ID, l.Patient.ID, patientActor(c, a.ID), h.now())
	if err != nil {
		return notPatient(err)
	}
	h.checkpoint()
	h.pflash(c, "Storico azzerato: "+views.Count(n, "referto eliminato", "referti eliminati")+" definitivamente.")
	return c.Redirect(http.StatusSeeOther, "/fascicolo?p="+itoa(l.Patient.ID))
}

func (h *Handler) deleteReportForm(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	doc, err := h.dossierDocument(c, id, db.ActionReportDeleteByPatient)
	if err != nil {
		return err
	}
	visit, err := h.DB.Visit(h.pctx(c), doc.VisitID)
	if err != nil {
		return err
	}
	links, err := h.DB.DossierLinks(h.pctx(c), currentAccount(c).ID)
	if err != nil {
		return err
	}
	for _, l := range links {
		if l.Patient.ID == visit.PatientID && !l.MayManage() {
			return notPatient(db.ErrNotPatient)
		}
	}
	return h.render(c, http.StatusOK, views.Confirm(views.ConfirmPage{PChrome: h.pchrome(c, "Elimina referto"),
		Heading: "Eliminare il referto «" + doc.Title + "»?",
		Lines:   []string{"Il referto sarà eliminato definitivamente dal portale, anche per gli altri account che gestiscono il fascicolo. Resta ritirabile su carta."},
		Action:  "/fascicolo/referti/" + itoa(id) + "/elimina", Button: "Elimina", Back: "/fascicolo"}))
}

func (h *Handler) deleteReport(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	if _, err := h.dossierDocument(c, id, db.ActionReportDeleteByPatient); err != nil {
		return err
	}
	if err := h.DB.DeleteReport(h.pctx(c), a.ID, id, patientActor(c, a.ID), h.now()); err != nil {
		return notPatient(err)
	}
	h.checkpoint()
	h.pflash(c, "Referto eliminato.")
	return c.Redirect(http.StatusSeeOther, "/fascicolo")
}

func (h *Handler) deleteAccountPage() views.ConfirmPage {
	return views.ConfirmPage{Heading: "Eliminare il suo account?",
		Lines: []string{
			"Saranno eliminati il suo account, i familiari collegati, i consensi e le preferenze. Tutti gli accessi aperti saranno chiusi.",
			"I referti online dei fascicoli che nessun altro account gestisce saranno cancellati definitivamente; restano ritirabili su carta.",
			"Potrà registrarsi di nuovo con lo stesso cellulare.",
		},
		Action: "/profilo/elimina", Button: "Elimina il mio account", Back: "/profilo", Password: true,
		Form: views.Form{Values: map[string]string{}, Errors: map[string]string{}}}
}

func (h *Handler) deleteAccountForm(c echo.Context) error {
	page := h.deleteAccountPage()
	page.PChrome = h.pchrome(c, "Elimina account")
	return h.render(c, http.StatusOK, views.Confirm(page))
}

// deleteAccount needs the password again; afterwards no session of the
// account works, because the account is gone.
func (h *Handler) deleteAccount(c echo.Context) error {
	ctx := h.pctx(c)
	a := currentAccount(c)
	if msg, err := h.reauthenticate(c, a, c.FormValue("password")); err != nil {
		return err
	} else if msg != "" {
		page := h.deleteAccountPage()
		page.PChrome = h.pchrome(c, "Elimina account")
		page.Form.Errors["password"] = msg
		return h.render(c, http.StatusUnprocessableEntity, views.Confirm(page))
	}
	if _, err := h.DB.DeleteAccount(ctx, a.ID, patientActor(c, a.ID), h.now()); err != nil {
		return err
	}
	h.checkpoint()
	if err := h.patientSessions.Destroy(ctx); err != nil {
		return err
	}
	h.pflash(c, "Il suo account è stato eliminato.")
	return c.Redirect(http.StatusSeeOther, "/")
}

// checkpoint has the deleted pages erased from the WAL in the background
// (db.RunCheckpointer): the request never waits on readers for it.
func (h *Handler) checkpoint() { h.DB.NoteDeletion() }

// notPatient explains that only the patient's own account may do this.
func notPatient(err error) error {
	if errors.Is(err, db.ErrNotPatient) {
		return echo.NewHTTPError(http.StatusForbidden, "Il paziente gestisce il proprio fascicolo con un suo account: "+
			"solo il paziente può riattivare il servizio o eliminarne i referti.")
	}
	return err
}

// revokeOthers lets the patient end every other account's access (for
// example a parent's, once the patient is an adult with their own account).
func (h *Handler) revokeOthers(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	n, err := h.DB.RevokeOtherAccounts(h.pctx(c), a.ID, l.Patient.ID, patientActor(c, a.ID), h.now())
	if errors.Is(err, db.ErrNotPatient) {
		return echo.NewHTTPError(http.StatusForbidden, "Solo il paziente, dal proprio account, può togliere l'accesso agli altri.")
	}
	if err != nil {
		return err
	}
	h.pflash(c, "Accesso tolto a "+views.Count(n, "altro account", "altri account")+".")
	return c.Redirect(http.StatusSeeOther, "/fascicolo?p="+itoa(l.Patient.ID))
}

// unlinkDossier removes a dossier from the account, for example one
// activated by mistake as one's own.
func (h *Handler) unlinkDossier(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	if err := h.DB.UnlinkDossier(h.pctx(c), a.ID, l.Patient.ID, patientActor(c, a.ID), h.now()); err != nil {
		return err
	}
	h.pflash(c, "Fascicolo scollegato dal suo account.")
	return c.Redirect(http.StatusSeeOther, "/fascicolo")
}
