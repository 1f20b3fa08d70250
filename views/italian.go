package views

import (
	"context"
	"strconv"
	"strings"
)

// Italian number and word forms shown to people. Every count, size and
// notice version a page or a message shows goes through here, so the rules
// (plural, decimal comma) live in one place and a translation has one
// place to change.

// Count writes n with its noun in the right number: Count(1, "referto",
// "referti") is "1 referto", Count(2, ...) is "2 referti", Count(0, ...)
// is "0 referti".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Size formats a byte count the Italian way: "20 MB", "1,5 MB", "512 kB",
// "300 byte". One decimal at most, and none when it is zero.
func Size(n int64) string {
	switch {
	case n >= 1<<30:
		return decimal(float64(n)/(1<<30)) + " GB"
	case n >= 1<<20:
		return decimal(float64(n)/(1<<20)) + " MB"
	case n >= 1<<10:
		return decimal(float64(n)/(1<<10)) + " kB"
	}
	return strconv.FormatInt(n, 10) + " byte"
}

// decimal writes f with one decimal, a comma, and no ",0".
func decimal(f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return strings.Replace(s, ".", ",", 1)
}

// pageTitle is the document's title: the page's own, then the portal's
// name in the page's language ("Accedi · Referti online", "Log in ·
// Online medical reports"; the desk's pages are always Italian), which is
// never repeated ("Referti online", not "Referti online · Referti
// online").
func pageTitle(ctx context.Context, title string) string {
	site := T(ctx, "common.site_name")
	if title == "" || title == site {
		return site
	}
	return title + " · " + site
}
