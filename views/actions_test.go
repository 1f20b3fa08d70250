package views

import (
	"testing"

	"fse/db"
)

func TestEveryAuditActionHasAnItalianLabel(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range db.AuditActions() {
		if seen[a] {
			t.Errorf("action %q listed twice", a)
		}
		seen[a] = true
		if got := ActionLabel(a); got == a || got == "" {
			t.Errorf("action %q has no Italian label", a)
		}
	}
	for a := range actionLabels {
		if !seen[a] {
			t.Errorf("label for %q, which db does not define", a)
		}
	}
}
