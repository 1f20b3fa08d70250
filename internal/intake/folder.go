package intake

import (
	"context"
	"errors"
	"io"

	"fse/db"
	"fse/internal/hotfolder"
	"fse/internal/pdfcheck"
)

// FolderImporter imports the hot folder's PDFs as reports delivered by
// one integration (the hot folder has no token: the operator names the
// integration it stands for). Importing the same file again is a retry
// (same report id, same PDF), which is what the hot folder's crash safety
// relies on.
type FolderImporter struct {
	Service     *Service
	Integration db.Integration
}

// Import implements hotfolder.Importer: permanent refusals (bad accession,
// not a PDF, declined delivery...) are *hotfolder.Refused with a reason in
// Italian and English; anything else is left for the next scan.
func (f FolderImporter) Import(ctx context.Context, file hotfolder.File, body io.Reader) error {
	publish := f.Integration.AutoPublish
	if file.Publish != nil {
		publish = *file.Publish
	}
	_, err := f.Service.PutReport(ctx, f.Integration, "", Report{Accession: file.Accession, ReportID: file.ReportID, Title: file.Title,
		Body: body, Publish: publish})
	if err == nil {
		return nil
	}
	if reason, ok := folderRefusal(err); ok {
		return &hotfolder.Refused{Reason: reason}
	}
	return err
}

// folderRefusal explains a permanent refusal to whoever reads failed/.
func folderRefusal(err error) (string, bool) {
	var inv *InvalidError
	switch {
	case errors.As(err, &inv):
		p := inv.Problems[0]
		return p.IT + " / " + p.EN, true
	case errors.Is(err, db.ErrNotFound):
		return "Nessuna accettazione con questo numero nella struttura dell'integrazione. / No visit with this accession number in the integration's facility.", true
	case errors.Is(err, pdfcheck.ErrNotPDF):
		return "Il file non è un PDF. / The file is not a PDF.", true
	case errors.Is(err, pdfcheck.ErrTruncated):
		return "Il PDF è incompleto o danneggiato: esportalo di nuovo. / The PDF is truncated or damaged: export it again.", true
	case errors.Is(err, pdfcheck.ErrTooLarge):
		return "Il file supera il limite di dimensione. / The file is larger than the upload limit.", true
	case errors.Is(err, db.ErrOnlineDeclined):
		return "Il paziente ha rifiutato la consegna online: il referto va consegnato su carta. / The patient declined online delivery: the report goes on paper.", true
	case errors.Is(err, db.ErrOnlineDisabled):
		return "Il paziente ha disattivato il servizio online: il referto va consegnato su carta. / The patient turned online delivery off: the report goes on paper.", true
	case errors.Is(err, db.ErrReportDeletedByPatient):
		return "Il paziente ha eliminato questo referto dal portale: non viene caricato di nuovo. / The patient deleted this report: it is not loaded again.", true
	case errors.Is(err, db.ErrReportExpired):
		return "Questo referto è scaduto e ha lasciato il portale. / This report expired and left the portal.", true
	case errors.Is(err, ErrScope):
		return "L'integrazione della cartella non può consegnare referti. / The folder's integration may not deliver reports.", true
	}
	return "", false
}
