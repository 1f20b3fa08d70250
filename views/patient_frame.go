package views

import (
	"context"
	"net/http"
)

// radioID is the id of a group's radio: the field's own for the first,
// so that the error summary's link lands on the group.
func radioID(name string, i int, value string) string {
	if i == 0 {
		return fieldID(name)
	}
	return fieldID(name) + "-" + value
}

// ErrorPageModel is a patient page that went wrong.
type ErrorPageModel struct {
	PChrome
	Status  int
	Message string
}

// Advice says what to do next, in words a patient understands.
func (p ErrorPageModel) Advice(ctx context.Context) string {
	switch {
	case p.Status == http.StatusNotFound:
		return T(ctx, "frame.advice_not_found")
	case p.Status >= 500:
		return T(ctx, "frame.advice_server")
	}
	return T(ctx, "frame.advice_other")
}

// Home is where "home" is: the dossier once logged in, else the portal's
// first page.
func (p ErrorPageModel) Home() string {
	if p.Account != nil {
		return "/fascicolo"
	}
	return "/"
}

// HomeLabel names the way home.
func (p ErrorPageModel) HomeLabel(ctx context.Context) string {
	if p.Account != nil {
		return T(ctx, "frame.go_dossier")
	}
	return T(ctx, "frame.back_home")
}
