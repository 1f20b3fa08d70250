package views

import (
	"context"
	"io"

	"github.com/a-h/templ"

	"fse/internal/locale"
)

// InLang renders its children in language l: the pickup slip is printed
// in the patient's language inside a desk page that stays Italian.
func InLang(l locale.Lang) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return templ.GetChildren(ctx).Render(locale.With(templ.ClearChildren(ctx), l), w)
	})
}

// SlipLangs are the languages a slip may be printed in, Italian (the
// default) first.
var SlipLangs = locale.Langs

// slipLangOf is the language a form's "slip_lang" names; Italian for
// anything else, the empty value of a new form included.
func slipLangOf(value string) locale.Lang {
	l, _ := locale.Parse(value)
	return l
}
