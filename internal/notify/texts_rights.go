package notify

import (
	"time"

	"fse/db"
	"fse/internal/locale"
)

// MajorityNotice tells an account, in l, that a dossier it managed (a
// child's, now of age) is no longer accessible from it. It names no one:
// the message may be read by someone else than the account holder.
func MajorityNotice(l locale.Lang) db.Notice {
	p := locale.For(l)
	return db.Notice{
		SMS:          p.T("notify.majority_sms"),
		EmailSubject: p.T("notify.majority_subject"),
		EmailBody:    p.T("notify.majority_body"),
	}
}

// MajorityNotices is MajorityNotice in every language, for
// db.EndMinorLinks to tell each account in its own.
func MajorityNotices() db.Notice { return everyLang(MajorityNotice) }

// ExpiryNotice tells, in l, that a document of the dossier will leave the
// portal on the day of expires: no exam, no name, no result, only the date
// and where to log in.
func ExpiryNotice(baseURL string, expires time.Time, l locale.Lang) db.Notice {
	p := locale.For(l)
	day := expires.In(db.Rome).Format("02/01/2006")
	link := baseURL + "/accedi"
	return db.Notice{
		SMS:          p.T("notify.expiry_sms", "Day", day, "Link", link),
		EmailSubject: p.T("notify.expiry_subject", "Day", day),
		EmailBody:    p.T("notify.expiry_body", "Day", day, "Link", link),
	}
}

// ExpiryNotices is ExpiryNotice in every language, for
// db.QueueExpiryNotices to tell each account in its own.
func ExpiryNotices(baseURL string, expires time.Time) db.Notice {
	return everyLang(func(l locale.Lang) db.Notice { return ExpiryNotice(baseURL, expires, l) })
}
