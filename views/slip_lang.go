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
