package notify

import (
	"regexp"
	"testing"
	"time"

	"fse/db"
)

// tuForm finds the familiar "tu" a patient's message must not use: the
// portal says "Lei", as the clinic's leaflet does.
// (Addresses are left out: "/accedi" is a path, not a verb.)
var tuForm = regexp.MustCompile(`(?i)(^|[^\p{L}])(tu|tuo|tua|tuoi|tue|ti|te|puoi|hai|accedi|trovi|usa|gestivi|rispondere)([^\p{L}]|$)`)

var addresses = regexp.MustCompile(`https?://\S+`)

// TestNoticesSpeakLei: every notice a patient receives by SMS or email
// says "Lei", and still names no exam (the texts stay neutral).
func TestNoticesSpeakLei(t *testing.T) {
	notices := map[string]db.Notice{
		"report":   ReportNotice("https://referti.example.it"),
		"majority": MajorityNotice(),
		"expiry":   ExpiryNotice("https://referti.example.it", time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)),
	}
	for name, n := range notices {
		for part, text := range map[string]string{"SMS": n.SMS, "subject": n.EmailSubject, "body": n.EmailBody,
			"attached subject": n.AttachedSubject, "attached body": n.AttachedBody} {
			if m := tuForm.FindStringSubmatch(addresses.ReplaceAllString(text, "")); m != nil {
				t.Errorf("%s notice, %s: says %q to the patient: %q", name, part, m[2], text)
			}
		}
	}
}
