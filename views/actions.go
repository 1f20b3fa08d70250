package views

import "fse/db"

// actionLabels names every audit action in Italian, for the patient's
// access history and the admin's audit log. A test checks that each action
// db defines has one.
var actionLabels = map[string]string{
	db.ActionStaffLogin:   "Accesso del personale",
	db.ActionStaffLogout:  "Uscita del personale",
	db.ActionStaffCreate:  "Creazione di un utente del personale",
	db.ActionStaffEnable:  "Riattivazione di un utente del personale",
	db.ActionStaffDisable: "Disattivazione di un utente del personale",

	db.ActionFacilityCreate:  "Creazione di una struttura",
	db.ActionFacilityEnable:  "Riattivazione di una struttura",
	db.ActionFacilityDisable: "Disattivazione di una struttura",

	db.ActionPatientCreate:        "Registrazione in accettazione",
	db.ActionPatientContactChange: "Modifica dei recapiti in accettazione",
	db.ActionPatientView:          "Consultazione della scheda anagrafica da parte del personale",
	db.ActionPatientSearch:        "Ricerca di pazienti da parte del personale",
	db.ActionVisitAccept:          "Accettazione della prestazione",
	db.ActionVisitView:            "Consultazione di un'accettazione da parte del personale",

	db.ActionCodeIssue:   "Stampa del codice di attivazione",
	db.ActionCodeReprint: "Ristampa del codice di attivazione",
	db.ActionCodeRevoke:  "Annullamento di un codice di attivazione",

	db.ActionReportUpload:          "Caricamento di un referto",
	db.ActionReportPublish:         "Pubblicazione di un referto online",
	db.ActionReportWithdraw:        "Ritiro di un referto caricato per errore",
	db.ActionReportExpire:          "Cancellazione automatica di un referto scaduto",
	db.ActionReportView:            "Consultazione di un referto da parte del personale",
	db.ActionReportDownload:        "Scaricamento di un referto",
	db.ActionReportViewOnline:      "Apertura di un referto online",
	db.ActionReportDeleteByPatient: "Eliminazione di un referto dal fascicolo",
	db.ActionReportCorrect:         "Sostituzione di un referto con la versione rettificata",
	db.ActionReportReplace:         "Sostituzione di un referto non ancora pubblicato",

	db.ActionDossierActivate:     "Attivazione del fascicolo online",
	db.ActionDossierEnable:       "Riattivazione del servizio online",
	db.ActionDossierDisable:      "Disattivazione del servizio online",
	db.ActionDossierReset:        "Azzeramento dello storico",
	db.ActionDossierRevokeOthers: "Fine dell'accesso degli altri account al fascicolo",
	db.ActionDossierUnlink:       "Fascicolo scollegato da un account",
	db.ActionRelativeAdd:         "Aggiunta di un familiare",
	db.ActionRelativeRemove:      "Fine dell'accesso di un familiare",

	db.ActionAccountRegister:              "Registrazione al portale",
	db.ActionAccountLogin:                 "Accesso al portale",
	db.ActionAccountLoginCode:             "Accesso con codice SMS",
	db.ActionAccountLogout:                "Uscita dal portale",
	db.ActionAccountPasswordChange:        "Cambio della password",
	db.ActionAccountResetRequest:          "Richiesta di una nuova password",
	db.ActionAccountReauthenticate:        "Conferma della password",
	db.ActionAccountPreferences:           "Modifica delle preferenze",
	db.ActionAccountContactChange:         "Modifica dei recapiti dell'account",
	db.ActionAccountEmailConfirmationSent: "Invio dell'email di conferma dell'indirizzo",
	db.ActionAccountEmailVerified:         "Conferma dell'indirizzo email",
	db.ActionAccountDelete:                "Eliminazione dell'account",

	db.ActionIntegrationCreate:     "Creazione di un'integrazione con un sistema della struttura",
	db.ActionIntegrationRevoke:     "Revoca di un'integrazione",
	db.ActionIntegrationAuthFailed: "Accesso rifiutato a un sistema esterno",

	db.ActionOutboxRetry: "Nuovo invio di una notifica non recapitata",
}

// ActionLabel names an audit action in Italian; an unknown action (from a
// newer version) is shown as stored.
func ActionLabel(action string) string {
	if s, ok := actionLabels[action]; ok {
		return s
	}
	return action
}
