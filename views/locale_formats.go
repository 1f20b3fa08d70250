package views

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"
)

// Counts and times in the page's language (the staff pages' context is
// Italian, so they call these too).

// WhenT says when t comes: "alle 10:30" / "at 10:30" today, "domani alle
// 10:30" / "tomorrow at 10:30", or with the date further ahead.
func WhenT(ctx context.Context, t, now time.Time) string {
	t, now = t.In(rome), now.In(rome)
	tomorrow := now.AddDate(0, 0, 1)
	switch {
	case t.YearDay() == now.YearDay() && t.Year() == now.Year():
		return T(ctx, "common.when_today", "Time", t.Format("15:04"))
	case t.YearDay() == tomorrow.YearDay() && t.Year() == tomorrow.Year():
		return T(ctx, "common.when_tomorrow", "Time", t.Format("15:04"))
	}
	return T(ctx, "common.when_date", "Date", t.Format("02/01"), "Time", t.Format("15:04"))
}

// DaysLeftT says how many days remain before t: "ancora 3 giorni" / "3
// days left", "scade oggi" / "expires today".
func DaysLeftT(ctx context.Context, t, now time.Time) string {
	d := int(math.Ceil(t.Sub(now).Hours() / 24))
	if d <= 0 {
		return T(ctx, "common.expires_today")
	}
	return TN(ctx, "common.days_left", d)
}

// NoticeEditionT says which edition of a privacy notice a page shows
// ("aggiornata a novembre 2026" / "updated November 2026") from the
// version consents record ("servizio-2026-11"). A version of another
// shape is shown as it is.
func NoticeEditionT(ctx context.Context, version string) string {
	i := strings.LastIndexByte(version, '-')
	if i < 5 {
		return version
	}
	month, err := strconv.Atoi(version[i+1:])
	year := version[i-4 : i]
	if _, yerr := strconv.Atoi(year); err != nil || yerr != nil || month < 1 || month > 12 || version[i-5] != '-' {
		return version
	}
	return T(ctx, "common.notice_edition", "Month", T(ctx, monthIDs[month-1]), "Year", year)
}

// monthIDs name the months' messages, January first.
var monthIDs = [...]string{"common.month_1", "common.month_2", "common.month_3", "common.month_4", "common.month_5",
	"common.month_6", "common.month_7", "common.month_8", "common.month_9", "common.month_10", "common.month_11",
	"common.month_12"}
