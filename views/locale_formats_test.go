package views

import (
	"context"
	"testing"
	"time"

	"fse/internal/locale"
)

func TestFormatsFollowThePagesLanguage(t *testing.T) {
	it, en := locale.With(context.Background(), locale.Italian), locale.With(context.Background(), locale.English)
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, rome)
	for _, tc := range []struct{ got, want string }{
		{WhenT(it, now.Add(time.Hour), now), "alle 10:00"},
		{WhenT(en, now.Add(24*time.Hour), now), "tomorrow at 09:00"},
		{WhenT(en, now.Add(72*time.Hour), now), "on 03/12 at 09:00"},
		{DaysLeftT(it, now.Add(24*time.Hour), now), "ancora 1 giorno"},
		{DaysLeftT(en, now.Add(72*time.Hour), now), "3 days left"},
		{DaysLeftT(en, now, now), "expires today"},
		{NoticeEditionT(it, "servizio-2026-11"), "aggiornata a novembre 2026"},
		{NoticeEditionT(en, "servizio-2026-11"), "updated November 2026"},
		{NoticeEditionT(en, "odd"), "odd"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
