package notify

import "fse/db"

// ReportNotice is the only text a "new document" message may carry: that a
// document is available and where to log in. No exam, department, result
// or name (Garante): the desk, the integrations and a corrected report all
// send exactly this.
func ReportNotice(baseURL string) db.Notice {
	link := baseURL + "/accedi"
	return db.Notice{
		SMS:          "Referti online: è disponibile un nuovo documento nel suo fascicolo. Acceda da " + link,
		EmailSubject: "Referti online: nuovo documento disponibile",
		EmailBody: "Gentile utente,\n\nnel suo fascicolo di Referti online è disponibile un nuovo documento.\n" +
			"Per consultarlo acceda da " + link + "\n\nQuesto messaggio è inviato automaticamente: non risponda.\n",
		AttachedSubject: "Referti online: documento allegato",
		AttachedBody: "Gentile utente,\n\nin allegato trova un documento del suo fascicolo di Referti online, come ha chiesto.\n" +
			"Per aprirlo usi la password che ha scelto sul portale: non è in questo messaggio.\n\n" +
			"Questo messaggio è inviato automaticamente: non risponda.\n",
	}
}
