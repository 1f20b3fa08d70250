package notify

import (
	"time"

	"fse/db"
)

// MajorityNotice tells an account that a dossier it managed (a child's,
// now of age) is no longer accessible from it. It names no one: the
// message may be read by someone else than the account holder.
func MajorityNotice() db.Notice {
	return db.Notice{
		SMS:          "Referti online: un fascicolo che gestiva non è più accessibile dal suo account.",
		EmailSubject: "Referti online: un fascicolo non è più accessibile",
		EmailBody: "Gentile utente,\n\nun fascicolo che gestiva non è più accessibile dal suo account.\n\n" +
			"Questo messaggio è inviato automaticamente: non risponda.\n",
	}
}

// ExpiryNotice tells that a document of the dossier will leave the portal
// on the day of expires: no exam, no name, no result, only the date and
// where to log in.
func ExpiryNotice(baseURL string, expires time.Time) db.Notice {
	day := expires.In(db.Rome).Format("02/01/2006")
	link := baseURL + "/accedi"
	return db.Notice{
		SMS:          "Referti online: un documento nel suo fascicolo sarà rimosso il " + day + ". Per scaricarlo acceda da " + link,
		EmailSubject: "Referti online: un documento sarà rimosso il " + day,
		EmailBody: "Gentile utente,\n\nun documento nel suo fascicolo di Referti online sarà rimosso il " + day + ".\n" +
			"Per scaricarlo acceda da " + link + "\n\nQuesto messaggio è inviato automaticamente: non risponda.\n",
	}
}
