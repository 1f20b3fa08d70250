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
	db.ActionAccountRegisterCode:          "Codice SMS di registrazione",
	db.ActionAccountResetCode:             "Codice SMS per una nuova password",
	db.ActionAccountContactCode:           "Codice SMS di conferma del nuovo cellulare",

	db.ActionIntegrationCreate:     "Creazione di un'integrazione con un sistema della struttura",
	db.ActionIntegrationRevoke:     "Revoca di un'integrazione",
	db.ActionIntegrationAuthFailed: "Accesso rifiutato a un sistema esterno",

	db.ActionOutboxRetry: "Nuovo invio di una notifica non recapitata",

	db.ActionStaffSecondFactor:       "Codice dell'app di autenticazione all'accesso del personale",
	db.ActionStaffFactorAdd:          "Aggiunta di un'app di autenticazione del personale",
	db.ActionStaffFactorRemove:       "Rimozione di un'app di autenticazione del personale",
	db.ActionStaffRecoveryCodes:      "Nuovi codici di recupero del personale",
	db.ActionStaffRecoveryCodeUsed:   "Accesso del personale con un codice di recupero",
	db.ActionStaffFactorsReset:       "Azzeramento del secondo fattore di un utente del personale",
	db.ActionStaffPasswordSet:        "Nuova password di un utente del personale",
	db.ActionStaffReauthenticate:     "Conferma della password del personale",
	db.ActionAccountSecondFactor:     "Codice dell'app di autenticazione",
	db.ActionAccountFactorAdd:        "Aggiunta di un'app di autenticazione",
	db.ActionAccountFactorRemove:     "Rimozione di un'app di autenticazione",
	db.ActionAccountRecoveryCodes:    "Nuovi codici di recupero",
	db.ActionAccountRecoveryCodeUsed: "Accesso con un codice di recupero",

	db.ActionVisitProtect:       "Prestazione segnata come riservata",
	db.ActionVisitUnprotect:     "Tolto il segno di riservato da una prestazione",
	db.ActionReportProtect:      "Referto segnato come riservato",
	db.ActionReportUnprotect:    "Tolto il segno di riservato da un referto",
	db.ActionReportHide:         "Referto nascosto agli altri account",
	db.ActionReportUnhide:       "Referto di nuovo visibile agli altri account",
	db.ActionDossierMajority:    "Fine dell'accesso dei familiari per la maggiore età",
	db.ActionReportPaperPickup:  "Ritiro di un referto su carta",
	db.ActionUncollectedList:    "Consultazione dei referti non ancora scaricati",
	db.ActionReportExpiryNotice: "Avviso di prossima rimozione di un referto",
	db.ActionShareCreate:        "Condivisione con un medico",
	db.ActionShareRevoke:        "Revoca di una condivisione con un medico",
	db.ActionShareOpen:          "Apertura di una condivisione da parte di un medico",
	db.ActionShareView:          "Consultazione di un referto condiviso da parte di un medico",
	db.ActionShareDownload:      "Scaricamento di un referto condiviso da parte di un medico",
	db.ActionEmailDeliveryOn:    "Attivazione dell'invio dei referti per email",
	db.ActionEmailDeliveryOff:   "Disattivazione dell'invio dei referti per email",
	db.ActionReportEmailed:      "Invio di un referto protetto per email",

	db.ActionStaffFacility: "Struttura di lavoro di un utente del personale",
	db.ActionSlipContacts:  "Modifica dei contatti stampati sul modulo di ritiro",
	db.ActionDraftsList:    "Consultazione delle accettazioni con referti da pubblicare",
}

// ActionLabel names an audit action in Italian; an unknown action (from a
// newer version) is shown as stored.
func ActionLabel(action string) string {
	if s, ok := actionLabels[action]; ok {
		return s
	}
	return action
}
