package demo

import (
	"bytes"
	"fmt"

	"github.com/go-pdf/fpdf"
)

// ReportPDF renders a small fictional report, clearly marked as demo data.
// go-pdf/fpdf is used because hand-writing PDF object tables, fonts and a
// cross-reference table is exactly the error-prone work it exists for.
func ReportPDF(title, patient, fiscalCode, accession string, exams []string) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("cp1252")
	pdf.SetTitle(tr(title), false)
	pdf.SetCreator("fse demo", false)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.Cell(0, 10, tr("Poliambulatorio Demo - DATI FITTIZI"))
	pdf.Ln(14)
	pdf.SetFont("Helvetica", "B", 14)
	pdf.Cell(0, 8, tr(title))
	pdf.Ln(12)
	pdf.SetFont("Helvetica", "", 11)
	for _, line := range []string{
		"Paziente: " + patient,
		"Codice fiscale: " + fiscalCode,
		"N. accettazione: " + accession,
	} {
		pdf.Cell(0, 7, tr(line))
		pdf.Ln(7)
	}
	pdf.Ln(4)
	for _, e := range exams {
		pdf.MultiCell(0, 6, tr(fmt.Sprintf("%s: valori nella norma (esempio dimostrativo).", e)), "", "L", false)
	}
	pdf.Ln(6)
	pdf.SetFont("Helvetica", "I", 9)
	pdf.MultiCell(0, 5, tr("Documento generato per la dimostrazione del portale fse. Non ha alcun valore clinico."), "", "L", false)
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render demo report: %w", err)
	}
	return buf.Bytes(), nil
}
