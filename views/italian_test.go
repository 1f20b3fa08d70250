package views

import (
	"context"
	"strings"
	"testing"
	"time"

	"fse/internal/locale"
)

func TestCountAgreesWithTheNumber(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{0, "0 referti"}, {1, "1 referto"}, {2, "2 referti"}, {21, "21 referti"}}
	for _, tt := range tests {
		if got := Count(tt.n, "referto", "referti"); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestSizeIsWrittenTheItalianWay(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{300, "300 byte"},
		{2048, "2 kB"},
		{1536, "1,5 kB"},
		{20 << 20, "20 MB"},
		{3 << 19, "1,5 MB"},
		{3 << 29, "1,5 GB"},
		{1<<20 + 1, "1 MB"},
	}
	for _, tt := range tests {
		if got := Size(tt.n); got != tt.want {
			t.Errorf("Size(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestDaysLeftAgreesWithTheNumber(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for days, want := range map[int]string{0: "scade oggi", 1: "ancora 1 giorno", 2: "ancora 2 giorni"} {
		if got := DaysLeftT(context.Background(), now.AddDate(0, 0, days), now); got != want {
			t.Errorf("DaysLeftT(+%d) = %q, want %q", days, got, want)
		}
	}
}

func TestPageTitleNeverRepeatsThePortalsName(t *testing.T) {
	for title, want := range map[string]string{"": "Referti online", "Referti online": "Referti online", "Accedi": "Accedi · Referti online"} {
		if got := pageTitle(context.Background(), title); got != want {
			t.Errorf("pageTitle(%q) = %q, want %q", title, got, want)
		}
	}
	en := locale.With(context.Background(), locale.English)
	for title, want := range map[string]string{"": "Online medical reports", "Online medical reports": "Online medical reports", "Log in": "Log in · Online medical reports"} {
		if got := pageTitle(en, title); got != want {
			t.Errorf("English pageTitle(%q) = %q, want %q", title, got, want)
		}
	}
}

func TestNoticeEditionIsWordsNotAVersionCode(t *testing.T) {
	it := locale.With(context.Background(), locale.Italian)
	for v, want := range map[string]string{
		"fascicolo-2026-11": "aggiornata a novembre 2026",
		"servizio-2027-01":  "aggiornata a gennaio 2027",
		"altro":             "altro",
		"servizio-2026-13":  "servizio-2026-13",
	} {
		if got := NoticeEditionT(it, v); got != want {
			t.Errorf("NoticeEditionT(%q) = %q, want %q", v, got, want)
		}
	}
	for _, v := range []string{ServicePrivacyVersion, DossierPrivacyVersion} {
		if NoticeEditionT(it, v) == v {
			t.Errorf("the notice version %q is shown as a code", v)
		}
	}
}

func TestErrorListFollowsThePageOrder(t *testing.T) {
	f := Form{Errors: map[string]string{"password": "p", "zeta": "z", "first_name": "n", "alpha": "a", "empty": ""}}
	got := f.ErrorList("first_name", "mobile", "password")
	want := []string{"first_name", "password", "alpha", "zeta"}
	if len(got) != len(want) {
		t.Fatalf("ErrorList = %+v, want fields %v", got, want)
	}
	for i, e := range got {
		if e.Field != want[i] || e.Anchor() != "#f-"+want[i] {
			t.Errorf("ErrorList[%d] = %+v, want %s", i, e, want[i])
		}
	}
}

func TestEveryHelpAnchorHasAQuestion(t *testing.T) {
	seen := map[string]bool{}
	ctx := context.Background()
	for _, tp := range HelpTopics(ctx, 60) {
		if seen[tp.Anchor] || tp.Question == "" || strings.HasPrefix(tp.Question, "[[") || len(tp.Answer) == 0 {
			t.Errorf("help topic %q: duplicate or empty", tp.Anchor)
		}
		seen[tp.Anchor] = true
	}
	for _, a := range []string{HelpNoReport, HelpMobile, HelpLostSlip, HelpCodes, HelpRelatives, HelpDeletion, HelpPaper, HelpPassword} {
		if !seen[a] || helpQuestion(ctx, a) == T(ctx, "help.title") {
			t.Errorf("anchor %q has no question", a)
		}
	}
}
