package locale

import (
	"context"
	"html"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Printer gives the messages of one language.
type Printer struct {
	lang   Lang
	tag    language.Tag
	loc    *i18n.Localizer
	static map[string]string
	// compiled are the messages with arguments or plural forms that
	// render without go-i18n's templates (compiled.go).
	compiled map[string]compiled
}

// Lang is the printer's language.
func (p *Printer) Lang() Lang { return p.lang }

// T returns a message. args are name-value pairs for its placeholders:
// T("dossier.expires", "Date", d) fills {{.Date}}. A message missing from
// the catalogue comes out as "[[id]]", which the page tests look for.
func (p *Printer) T(id string, args ...any) string {
	if len(args) == 0 {
		if s, ok := p.static[id]; ok {
			return s
		}
	}
	return p.localize(id, nil, args)
}

// N returns a message in the plural form that fits n; its placeholders
// have {{.Count}} besides args: N("dossier.reports", 2) is "2 referti".
func (p *Printer) N(id string, n int, args ...any) string {
	return p.localize(id, n, args)
}

// Lookup returns a message without arguments and whether the catalogue has
// it (T shows a missing one as "[[id]]").
func (p *Printer) Lookup(id string) (string, bool) {
	s := p.T(id)
	return s, s != missing(id)
}

// missing is what a message the catalogue lacks prints: visible on the
// page, and caught by the tests that look for "[[".
func missing(id string) string { return "[[" + id + "]]" }

// HTML returns a message whose text holds markup of our own (<strong>, a
// link), with every argument escaped: the catalogue is trusted, what fills
// it is not.
func (p *Printer) HTML(id string, args ...any) string {
	escaped := make([]any, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok && i%2 == 1 {
			a = html.EscapeString(s)
		}
		escaped[i] = a
	}
	return p.T(id, escaped...)
}

func (p *Printer) localize(id string, count any, args []any) string {
	if c, ok := p.compiled[id]; ok {
		if s, ok := c.render(p.tag, count, args); ok {
			return s
		}
	}
	if p.loc == nil {
		return missing(id)
	}
	data := make(map[string]any, len(args)/2+1)
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok {
			data[k] = args[i+1]
		}
	}
	if count != nil {
		data["Count"] = count
	}
	s, err := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil {
		return missing(id)
	}
	return s
}

type ctxKey struct{}

// With returns ctx carrying the language l. It does not read the
// catalogue: a request that never prints a message (/healthz, a file, the
// API) never waits for it, not even the first one after start-up.
func With(ctx context.Context, l Lang) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the printer of the language ctx carries, Italian when it
// carries none.
func From(ctx context.Context) *Printer {
	if ctx != nil {
		if l, ok := ctx.Value(ctxKey{}).(Lang); ok {
			return For(l)
		}
	}
	return For(Default)
}
