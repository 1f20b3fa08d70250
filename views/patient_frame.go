package views

import "net/http"

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
func (p ErrorPageModel) Advice() string {
	switch {
	case p.Status == http.StatusNotFound:
		return "L'indirizzo potrebbe essere sbagliato, oppure la pagina non è più disponibile (per esempio un referto già cancellato dal portale). " +
			"Torni alla pagina iniziale; se cerca un referto, legga le domande frequenti."
	case p.Status >= 500:
		return "Non è colpa sua. Riprovi tra qualche minuto; se il problema continua, si rivolga allo sportello della struttura. " +
			"Il referto resta sempre ritirabile su carta."
	}
	return "Torni alla pagina iniziale e riprovi; se qualcosa non è chiaro, legga le domande frequenti."
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
func (p ErrorPageModel) HomeLabel() string {
	if p.Account != nil {
		return "Vai al mio fascicolo"
	}
	return "Torna alla pagina iniziale"
}
