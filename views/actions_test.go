package views

import (
	"context"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"fse/db"
	"fse/internal/locale"
)

func TestEveryAuditActionHasALabelInEveryLanguage(t *testing.T) {
	seen := map[string]bool{}
	en := locale.With(context.Background(), locale.English)
	for _, a := range db.AuditActions() {
		if seen[a] {
			t.Errorf("action %q listed twice", a)
		}
		seen[a] = true
		it := ActionLabelT(locale.With(context.Background(), locale.Italian), a)
		if it == a || it == "" {
			t.Errorf("action %q has no Italian label", a)
		}
		if got := ActionLabelT(en, a); got == a || got == "" || got == it {
			t.Errorf("action %q has no English label (got %q)", a, got)
		}
	}
	if got := ActionLabelT(en, "future.action"); got != "future.action" {
		t.Errorf("an unknown action is shown as %q, want it as stored", got)
	}
	// Every label in the catalogue names an action db defines, and no two
	// actions share a message.
	byID := map[string]string{}
	for a := range seen {
		if other, dup := byID[actionMessageID(a)]; dup {
			t.Errorf("actions %q and %q share the message %s", a, other, actionMessageID(a))
		}
		byID[actionMessageID(a)] = a
	}
	for _, l := range locale.Langs {
		var cat map[string]map[string]any
		if _, err := toml.DecodeFile("../internal/locale/catalog/access_log."+string(l)+".toml", &cat); err != nil {
			t.Fatal(err)
		}
		for name := range cat["access_log"] {
			if id := "access_log." + name; strings.HasPrefix(name, "action_") && byID[id] == "" {
				t.Errorf("%s: label %s for an action db does not define", l, id)
			}
		}
	}
}

func TestTheAccessHistoryNamesActionsAndActorsInEnglish(t *testing.T) {
	en := locale.With(context.Background(), locale.English)
	if got, want := ActionLabelT(en, db.ActionReportDownload), "A report was downloaded"; got != want {
		t.Errorf("download: %q, want %q", got, want)
	}
	me := &db.Account{ID: 7}
	p := AccessLogPage{PChrome: PChrome{Account: me}}
	for _, tt := range []struct {
		actor db.Actor
		want  string
	}{
		{db.Actor{Kind: "staff", Name: "sportello"}, "Clinic staff (sportello)"},
		{db.Actor{Kind: "patient", ID: 7}, "You (this account)"},
		{db.Actor{Kind: "patient", ID: 8}, "Another account with access to the dossier"},
		{db.Actor{Kind: db.ActorShare, Name: "ABCD"}, "Doctor with a sharing code (ABCD)"},
	} {
		if got := p.AccessActor(en, db.AuditEvent{Actor: tt.actor}); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.actor, got, tt.want)
		}
	}
	if got, want := p.AccessActor(context.Background(), db.AuditEvent{Actor: db.Actor{Kind: "patient", ID: 7}}), "Lei (questo account)"; got != want {
		t.Errorf("Italian: %q, want %q", got, want)
	}
}
