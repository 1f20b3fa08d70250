package views

import (
	"context"
	"io"
	"net/url"

	"github.com/a-h/templ"

	"fse/internal/locale"
)

// The words of the patient pages come from the message catalogues of
// internal/locale, in the language the request carries. Templates call
// these helpers with a message ID; they never hold the words themselves.

// T is a message in the page's language; args are name-value pairs for
// its placeholders.
func T(ctx context.Context, id string, args ...any) string {
	return locale.From(ctx).T(id, args...)
}

// TN is a message in the plural form that fits n ({{.Count}} is n).
func TN(ctx context.Context, id string, n int, args ...any) string {
	return locale.From(ctx).N(id, n, args...)
}

// TH is a message holding markup of our own (<strong>, links), written as
// HTML with its arguments escaped.
func TH(ctx context.Context, id string, args ...any) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, locale.From(ctx).HTML(id, args...))
		return err
	})
}

// Lang is the page's language.
func Lang(ctx context.Context) locale.Lang { return locale.From(ctx).Lang() }

// LangSwitchURL is the link that switches the page to the other language
// and comes back to path.
func LangSwitchURL(ctx context.Context, path string) templ.SafeURL {
	other := locale.English
	if Lang(ctx) == locale.English {
		other = locale.Italian
	}
	return templ.SafeURL("/lingua/" + string(other) + "?torna=" + url.QueryEscape(path))
}
