package notify

import (
	"fse/db"
	"fse/internal/locale"
)

// The texts a patient receives by SMS and email, in the language of the
// account they go to (locale.Parse(account.Lang)); the words are in the
// "notify" message catalogue. A text that db gives to each account in its
// own language (a report published, a reminder) is composed in every
// language at once: the ...Notices functions, whose result is the Italian
// notice with the others in Langs.

// ReportNotice is the only text a "new document" message may carry: that a
// document is available and where to log in. No exam, department, result
// or name (Garante): the desk, the integrations and a corrected report all
// send exactly this.
func ReportNotice(baseURL string, l locale.Lang) db.Notice {
	p := locale.For(l)
	link := baseURL + "/accedi"
	return db.Notice{
		SMS:             p.T("notify.report_sms", "Link", link),
		EmailSubject:    p.T("notify.report_subject"),
		EmailBody:       p.T("notify.report_body", "Link", link),
		AttachedSubject: p.T("notify.attached_subject"),
		AttachedBody:    p.T("notify.attached_body"),
	}
}

// ReportNotices is ReportNotice in every language, for db.PublishVisit and
// the integrations to tell each account in its own.
func ReportNotices(baseURL string) db.Notice {
	return everyLang(func(l locale.Lang) db.Notice { return ReportNotice(baseURL, l) })
}

// everyLang is the notice compose writes in the default language, with
// the same in each other language in Langs.
func everyLang(compose func(locale.Lang) db.Notice) db.Notice {
	n := compose(locale.Default)
	for _, l := range locale.Langs {
		if l == locale.Default {
			continue
		}
		if n.Langs == nil {
			n.Langs = map[string]db.Notice{}
		}
		n.Langs[string(l)] = compose(l)
	}
	return n
}

// SecurityNotice tells an account holder, in l, about an event on the
// account: sentence is the ID of one of the catalogue's
// "notify.security_*" sentences. It never carries a code.
func SecurityNotice(l locale.Lang, sentence string) db.Notice {
	p := locale.For(l)
	text := SecurityText(l, sentence)
	return db.Notice{
		SMS:          p.T("notify.security_sms", "Text", text),
		EmailSubject: p.T("notify.security_subject"),
		EmailBody:    p.T("notify.security_body", "Text", text),
	}
}

// SecurityText is the sentence of a security notice alone, in l: both
// the SMS and the email of the notice contain it.
func SecurityText(l locale.Lang, sentence string) string {
	return locale.For(l).T(sentence)
}

// EmailConfirmation is the email, in l, that asks the owner of an address
// to confirm it for the account with mobile (masked: only its last
// digits) by opening link. To is left to the caller.
func EmailConfirmation(l locale.Lang, maskedMobile, link string) Message {
	p := locale.For(l)
	return Message{
		Subject: p.T("notify.email_confirm_subject"),
		Body:    p.T("notify.email_confirm_body", "Mobile", maskedMobile, "Link", link),
	}
}
