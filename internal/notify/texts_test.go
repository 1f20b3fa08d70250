package notify

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/locale"
)

const base = "https://referti.example.it"

var expires = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// securitySentences are the IDs of every security notice's sentence, read
// from the Italian catalogue so that a sentence added there is tested too.
func securitySentences(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("../locale/catalog/notify.it.toml")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range regexp.MustCompile(`(?m)^(security_[a-z_]+) =`).FindAllStringSubmatch(string(src), -1) {
		if m[1] != "security_sms" && m[1] != "security_subject" && m[1] != "security_body" {
			ids = append(ids, "notify."+m[1])
		}
	}
	if len(ids) < 10 {
		t.Fatalf("found %d security sentences in the catalogue, want all of them", len(ids))
	}
	return ids
}

// textsIn is every text a patient may receive, composed in l, by name.
func textsIn(t *testing.T, l locale.Lang) map[string]string {
	t.Helper()
	out := map[string]string{}
	add := func(name string, n db.Notice) {
		for part, text := range map[string]string{"SMS": n.SMS, "subject": n.EmailSubject, "body": n.EmailBody,
			"attached subject": n.AttachedSubject, "attached body": n.AttachedBody} {
			if text != "" {
				out[name+" "+part] = text
			}
		}
	}
	add("report", ReportNotice(base, l))
	add("majority", MajorityNotice(l))
	add("expiry", ExpiryNotice(base, expires, l))
	for _, id := range securitySentences(t) {
		add(id, SecurityNotice(l, id))
	}
	m := EmailConfirmation(l, "*** *** 4567", base+"/verifica-email?t=abc")
	out["email confirmation subject"], out["email confirmation body"] = m.Subject, m.Body
	return out
}

// tuForm finds the familiar "tu" a patient's message must not use: the
// portal says "Lei", as the clinic's leaflet does.
// (Addresses are left out: "/accedi" is a path, not a verb.)
var tuForm = regexp.MustCompile(`(?i)(^|[^\p{L}])(tu|tuo|tua|tuoi|tue|ti|te|puoi|hai|accedi|trovi|usa|gestivi|rispondere)([^\p{L}]|$)`)

var addresses = regexp.MustCompile(`https?://\S+`)

// TestNoticesSpeakLei: every notice a patient receives by SMS or email
// says "Lei", and still names no exam (the texts stay neutral).
func TestNoticesSpeakLei(t *testing.T) {
	for name, text := range textsIn(t, locale.Italian) {
		if m := tuForm.FindStringSubmatch(addresses.ReplaceAllString(text, "")); m != nil {
			t.Errorf("%s: says %q to the patient: %q", name, m[2], text)
		}
	}
}

// italianWords give away an Italian text in a message meant to be English.
var italianWords = regexp.MustCompile(`(?i)(^|[^\p{L}])(referti|referto|fascicolo|gentile|utente|suo|sua|lei|acceda|documento|è|non|il|per|della|struttura|messaggio|codice|indirizzo|cellulare|collegamento)([^\p{L}]|$)`)

// Every text a patient may receive exists in both languages, fully
// translated: no missing message ("[[id]]"), and the English one has no
// Italian left in it (addresses aside: the portal's paths are Italian).
func TestEveryNoticeIsWrittenInBothLanguages(t *testing.T) {
	it, en := textsIn(t, locale.Italian), textsIn(t, locale.English)
	if len(it) != len(en) {
		t.Errorf("%d Italian texts, %d English", len(it), len(en))
	}
	var names []string
	for name := range it {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for l, text := range map[locale.Lang]string{locale.Italian: it[name], locale.English: en[name]} {
			if strings.Contains(text, "[[") || strings.Contains(text, "{{") || strings.TrimSpace(text) == "" {
				t.Errorf("%s (%s): not composed: %q", name, l, text)
			}
		}
		if en[name] == it[name] {
			t.Errorf("%s: the English text is the Italian one: %q", name, it[name])
		}
		if m := italianWords.FindStringSubmatch(addresses.ReplaceAllString(en[name], "")); m != nil {
			t.Errorf("%s: the English text says %q: %q", name, m[2], en[name])
		}
	}
}

// The Italian texts are those the portal always sent: the links and the
// day in their place, nothing else changed by the move to the catalogue.
func TestItalianNoticesAreUnchanged(t *testing.T) {
	r := ReportNotice(base, locale.Italian)
	e := ExpiryNotice(base, expires, locale.Italian)
	s := SecurityNotice(locale.Italian, "notify.security_password_changed")
	for _, tt := range []struct{ got, want string }{
		{r.SMS, "Referti online: è disponibile un nuovo documento nel suo fascicolo. Acceda da https://referti.example.it/accedi"},
		{r.EmailBody, "Gentile utente,\n\nnel suo fascicolo di Referti online è disponibile un nuovo documento.\n" +
			"Per consultarlo acceda da https://referti.example.it/accedi\n\nQuesto messaggio è inviato automaticamente: non risponda.\n"},
		{e.EmailSubject, "Referti online: un documento sarà rimosso il 01/12/2026"},
		{MajorityNotice(locale.Italian).SMS, "Referti online: un fascicolo che gestiva non è più accessibile dal suo account."},
		{s.SMS, "Referti online: la password del suo account è stata cambiata. Se non è stato lei, contatti subito la struttura."},
		{s.EmailBody, "Gentile utente,\n\nla password del suo account è stata cambiata. Se non è stato lei, contatti subito la struttura.\n"},
	} {
		if tt.got != tt.want {
			t.Errorf("got  %q\nwant %q", tt.got, tt.want)
		}
	}
}

func TestEnglishNoticesSayTheSameThings(t *testing.T) {
	r := ReportNotice(base, locale.English)
	if want := "Online medical reports: a new document is available in your dossier. Log in at https://referti.example.it/accedi"; r.SMS != want {
		t.Errorf("report SMS = %q, want %q", r.SMS, want)
	}
	if e := ExpiryNotice(base, expires, locale.English); !strings.Contains(e.SMS, "removed on 01/12/2026") || !strings.Contains(e.EmailBody, base+"/accedi") {
		t.Errorf("expiry notice lost its day or link: %+v", e)
	}
	m := EmailConfirmation(locale.English, "*** *** 4567", base+"/verifica-email?t=abc")
	if !strings.Contains(m.Body, "*** *** 4567") || !strings.Contains(m.Body, base+"/verifica-email?t=abc\n") {
		t.Errorf("email confirmation lost the mobile or the link: %q", m.Body)
	}
	if s := SecurityNotice(locale.English, "notify.security_recovery_code_used"); !strings.HasPrefix(s.EmailBody, "Dear user,\n\nA recovery code") {
		t.Errorf("security email = %q", s.EmailBody)
	}
}

// The notices db gives each account in its own language carry every
// language: Italian by default, English for an English account.
func TestNoticesForEveryAccountCarryBothLanguages(t *testing.T) {
	for name, n := range map[string]db.Notice{"report": ReportNotices(base), "majority": MajorityNotices(),
		"expiry": ExpiryNotices(base, expires)} {
		if got := n.In("it").SMS; !strings.HasPrefix(got, "Referti online:") {
			t.Errorf("%s in Italian: %q", name, got)
		}
		if got := n.In("en").SMS; !strings.HasPrefix(got, "Online medical reports:") {
			t.Errorf("%s in English: %q", name, got)
		}
	}
	if got, want := ReportNotices(base).In("en").AttachedBody, ReportNotice(base, locale.English).AttachedBody; got != want {
		t.Errorf("attached email in English = %q, want %q", got, want)
	}
}
