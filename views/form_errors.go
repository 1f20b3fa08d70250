package views

import (
	"sort"

	"github.com/a-h/templ"
)

// FieldError is one field's error as the error summary lists it: the
// message, linked to the field ("#f-" + Field).
type FieldError struct {
	Field   string
	Message string
}

// Anchor is the address of the field within its page.
func (e FieldError) Anchor() string { return "#" + fieldID(e.Field) }

// fieldID is the id of a field's control: the input, or the first radio
// of a group.
func fieldID(name string) string { return "f-" + name }

// errorID is the id of the message under a field, which the control names
// with aria-describedby.
func errorID(name string) string { return "e-" + name }

// ErrorList lists the form's errors in the page's order: the fields named
// in order first, as they appear, then any other field, by name.
func (f Form) ErrorList(order ...string) []FieldError {
	var out []FieldError
	seen := map[string]bool{}
	for _, name := range order {
		if msg := f.Errors[name]; msg != "" && !seen[name] {
			out = append(out, FieldError{Field: name, Message: msg})
		}
		seen[name] = true
	}
	var rest []string
	for name, msg := range f.Errors {
		if msg != "" && !seen[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	for _, name := range rest {
		out = append(out, FieldError{Field: name, Message: f.Errors[name]})
	}
	return out
}

// invalid is the attributes of a control whose field has an error:
// aria-invalid, and aria-describedby naming the message under it. None
// when the field is fine.
func (f Form) invalid(name string) templ.Attributes {
	if f.Err(name) == "" {
		return nil
	}
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": errorID(name)}
}

// The messages of the password's show/hide button (layout.templ's
// revealButton), in the page's language.
const (
	revealShow     = "frame.reveal_show"
	revealShowName = "frame.reveal_show_name"
	revealHide     = "frame.reveal_hide"
	revealHideName = "frame.reveal_hide_name"
)
