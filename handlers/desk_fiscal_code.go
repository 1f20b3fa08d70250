package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/internal/acceptance"
	"fse/internal/codicefiscale"
)

// fiscalCodeReading is what the acceptance form's script learns from a
// codice fiscale while the receptionist types it.
type fiscalCodeReading struct {
	// BirthDate is YYYY-MM-DD; empty, as Sex, when the code is invalid.
	BirthDate string `json:"birth_date,omitempty"`
	Sex       string `json:"sex,omitempty"`
	// Summary says in Italian what the code says, or what is wrong with it.
	Summary string `json:"summary"`
	Valid   bool   `json:"valid"`
}

// readFiscalCode decodes a codice fiscale for the acceptance form's
// script, which fills birth date and sex while the receptionist types: the
// rules stay here (the century, omocodia, the table of places), not in
// JavaScript. It is a POST so the code stays out of access logs; it reads
// nothing stored and writes nothing.
func (h *Handler) readFiscalCode(c echo.Context) error {
	cf, err := codicefiscale.Parse(c.FormValue("fiscal_code"))
	if err != nil {
		return c.JSON(http.StatusOK, fiscalCodeReading{Summary: acceptance.FiscalCodeProblem(err).IT})
	}
	d := acceptance.Derive(cf, h.now())
	return c.JSON(http.StatusOK, fiscalCodeReading{BirthDate: d.BirthDate, Sex: d.Sex, Summary: d.Summary(), Valid: true})
}
