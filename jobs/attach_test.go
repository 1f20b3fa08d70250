package jobs_test

import (
	"testing"

	"fse/internal/locale"
	"fse/jobs"
)

// An emailed report is named in the account's language, and the name says
// nothing of the exam or the patient.
func TestTheAttachedReportIsNamedInTheAccountsLanguage(t *testing.T) {
	for l, want := range map[locale.Lang]string{locale.Italian: "documento.pdf", locale.English: "document.pdf"} {
		if got := jobs.AttachmentName(l); got != want {
			t.Errorf("AttachmentName(%s) = %q, want %q", l, got, want)
		}
	}
}
