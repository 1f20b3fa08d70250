// Package intake is the one door through which the clinic's own systems
// deliver: the REST API, FHIR, HL7 v2 over MLLP and the hot folder all call
// a Service, so each applies the desk's rules (acceptance checks, declined
// or disabled online delivery, retention, neutral notices, encryption,
// audit) and the same idempotency. It knows nothing of HTTP or HL7.
package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"fse/db"
	"fse/internal/acceptance"
	"fse/internal/actcode"
	"fse/internal/notify"
	"fse/internal/pdfcheck"
	"fse/internal/sealbox"
)

// Service delivers visits and reports on behalf of integrations.
type Service struct {
	DB          *db.DB
	Keys        *sealbox.Keys
	BaseURL     string
	Retention   time.Duration
	UploadLimit int64
	Now         func() time.Time
}

// ErrScope means the integration's token does not carry the scope needed.
var ErrScope = errors.New("the integration's token does not allow this")

// InvalidError lists what is wrong with a request, field by field.
type InvalidError struct{ Problems acceptance.Problems }

func (e *InvalidError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		parts = append(parts, p.Field+": "+p.EN)
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

func invalid(field, it, en string) error {
	return &InvalidError{Problems: acceptance.Problems{{Field: field, IT: it, EN: en}}}
}

func need(in db.Integration, scope string) error {
	if !in.Has(scope) {
		return fmt.Errorf("%w (needs scope %q)", ErrScope, scope)
	}
	return nil
}

// VisitRequest is an acceptance sent by the HIS.
type VisitRequest struct {
	// ExternalID is the HIS's own id of the acceptance, unique per facility:
	// sending it again returns the same visit.
	ExternalID string
	acceptance.Visit
	OnlineDeclined bool
	// Protected marks the visit "riservato" (db.ProtectedPolicy).
	Protected bool
}

// VisitCreated answers an acceptance. Code is the activation code, given
// only in the answer that created it (or reissued it): it is stored only
// as a keyed MAC. On a retry Created is false and Code is empty.
type VisitCreated struct {
	Visit         db.Visit
	Created       bool
	Code          string
	ActivationURL string
}

// CreateVisit checks and stores an acceptance for the integration's
// facility, idempotently on ExternalID.
func (s *Service) CreateVisit(ctx context.Context, in db.Integration, ip string, req VisitRequest) (VisitCreated, error) {
	if err := need(in, db.ScopeVisits); err != nil {
		return VisitCreated{}, err
	}
	now := s.Now().UTC()
	p, exams, problems := acceptance.Check(req.Visit, now)
	if err := checkID(req.ExternalID); err != nil {
		problems = append(problems, acceptance.Problem{Field: "external_id", IT: "Identificativo esterno mancante o non valido.",
			EN: "external_id is required: 1-100 printable characters, the HIS's own id of the acceptance."})
	}
	if len(problems) > 0 {
		return VisitCreated{}, &InvalidError{Problems: problems}
	}
	var code string
	var mac []byte
	if !req.OnlineDeclined {
		code = actcode.New()
		mac = s.Keys.MAC(sealbox.ActivationCode, actcode.Normalize(code))
	}
	v, created, err := s.DB.AcceptOnce(ctx, db.Acceptance{Patient: p, FacilityID: in.FacilityID, Exams: exams,
		OnlineDeclined: req.OnlineDeclined, CodeMAC: mac, ExternalID: req.ExternalID, Protected: req.Protected}, in.Actor(ip), now)
	if err != nil {
		return VisitCreated{}, err
	}
	out := VisitCreated{Visit: v, Created: created}
	if created && code != "" {
		out.Code, out.ActivationURL = code, s.activationURL(code)
	}
	return out, nil
}

// ReissueCode revokes the visit's unused codes and issues a new one, as the
// desk's reprint does: the way a HIS that lost the first answer gets a code.
func (s *Service) ReissueCode(ctx context.Context, in db.Integration, ip, accession string) (VisitCreated, error) {
	if err := need(in, db.ScopeVisits); err != nil {
		return VisitCreated{}, err
	}
	v, err := s.DB.VisitByAccession(ctx, in.FacilityID, accession)
	if err != nil {
		return VisitCreated{}, err
	}
	// At the desk a reprint for a declined visit means the patient changed
	// their mind in person; a machine may not decide that for them.
	if v.OnlineDeclined {
		return VisitCreated{}, db.ErrOnlineDeclined
	}
	code := actcode.New()
	if err := s.DB.ReissueCode(ctx, v.ID, s.Keys.MAC(sealbox.ActivationCode, actcode.Normalize(code)), in.Actor(ip), s.Now().UTC()); err != nil {
		return VisitCreated{}, err
	}
	if v, err = s.DB.Visit(ctx, v.ID); err != nil {
		return VisitCreated{}, err
	}
	return VisitCreated{Visit: v, Created: true, Code: code, ActivationURL: s.activationURL(code)}, nil
}

// activationURL opens the activation page with the code filled in; the
// code travels in the fragment, which browsers never send to a server.
func (s *Service) activationURL(code string) string { return s.BaseURL + "/attiva#codice=" + code }

// Visit returns a visit of the integration's facility with its reports.
func (s *Service) Visit(ctx context.Context, in db.Integration, accession string) (db.Visit, []db.VisitReport, error) {
	if !in.Has(db.ScopeVisits) && !in.Has(db.ScopeReports) {
		return db.Visit{}, nil, ErrScope
	}
	v, err := s.DB.VisitByAccession(ctx, in.FacilityID, accession)
	if err != nil {
		return db.Visit{}, nil, err
	}
	reps, err := s.DB.VisitReports(ctx, v.ID)
	return v, reps, err
}

// Report is one PDF delivered under the sender's own id.
type Report struct {
	Accession string
	ReportID  string
	Title     string
	Body      io.Reader
	// Publish publishes it at once; a correction of a published report
	// always is.
	Publish bool
	// FiscalCode, when the sender names the patient (HL7 PID, FHIR
	// subject), must be the visit's patient's: a mistyped accession number
	// must not put a report in someone else's dossier.
	FiscalCode string
	// Protected marks the report "riservato" (db.ProtectedPolicy).
	Protected bool
}

// ErrWrongPatient means the report names another patient than its visit.
var ErrWrongPatient = errors.New("the report names another patient than the visit's")

// PutReport stores one report; see PutReports.
func (s *Service) PutReport(ctx context.Context, in db.Integration, ip string, r Report) (db.PutResult, error) {
	res, err := s.PutReports(ctx, in, ip, []Report{r})
	if err != nil {
		return db.PutResult{}, err
	}
	return res[0], nil
}

// PutReports stores reports of visits of the integration's facility, all
// or none (a FHIR Bundle, an HL7 message with several documents): each is
// checked (id, title, visit, patient), then streamed through the PDF check
// and the size limit into the one report pipeline, with
// db.PutExternalReports' idempotency and corrections.
func (s *Service) PutReports(ctx context.Context, in db.Integration, ip string, reports []Report) ([]db.PutResult, error) {
	if err := need(in, db.ScopeReports); err != nil {
		return nil, err
	}
	puts := make([]db.ExternalPut, 0, len(reports))
	for _, r := range reports {
		p, err := s.check(ctx, in, r)
		if err != nil {
			return nil, err
		}
		puts = append(puts, p)
	}
	return s.DB.PutExternalReports(ctx, puts, in.Actor(ip), s.Now().UTC())
}

// check turns one report into a delivery, refusing what needs no body.
func (s *Service) check(ctx context.Context, in db.Integration, r Report) (db.ExternalPut, error) {
	if err := checkID(r.ReportID); err != nil {
		return db.ExternalPut{}, invalid("report_id", "Identificativo del referto mancante o non valido.",
			"report_id is required: 1-100 printable characters, the sender's own id of the report.")
	}
	title := strings.TrimSpace(r.Title)
	if err := db.ValidateTitle(title); err != nil {
		return db.ExternalPut{}, invalid("title", fmt.Sprintf("Il titolo è obbligatorio, al massimo %d caratteri.", db.MaxTitleLen),
			fmt.Sprintf("title is required, at most %d characters (for example \"Esami del sangue\").", db.MaxTitleLen))
	}
	v, err := s.DB.VisitByAccession(ctx, in.FacilityID, r.Accession)
	if err != nil {
		return db.ExternalPut{}, err
	}
	if r.FiscalCode != "" {
		p, err := s.DB.Patient(ctx, v.PatientID)
		if err != nil {
			return db.ExternalPut{}, err
		}
		if !strings.EqualFold(strings.TrimSpace(r.FiscalCode), p.FiscalCode) {
			return db.ExternalPut{}, fmt.Errorf("visit %s: %w", r.Accession, ErrWrongPatient)
		}
	}
	return db.ExternalPut{VisitID: v.ID, ReportID: r.ReportID, Title: title, Publish: r.Publish, Retention: s.Retention,
		Notice: notify.ReportNotices(s.BaseURL), Body: pdfcheck.NewReader(r.Body, s.UploadLimit), Protected: r.Protected}, nil
}

// WithdrawReport withdraws a report the integration delivered.
func (s *Service) WithdrawReport(ctx context.Context, in db.Integration, ip, accession, reportID string) error {
	if err := need(in, db.ScopeReports); err != nil {
		return err
	}
	v, err := s.DB.VisitByAccession(ctx, in.FacilityID, accession)
	if err != nil {
		return err
	}
	return s.DB.WithdrawExternalReport(ctx, v.ID, reportID, in.Actor(ip), s.Now().UTC())
}

// checkID accepts a sender's id: 1 to 100 printable characters.
func checkID(id string) error {
	if id == "" || len(id) > 100 {
		return errors.New("bad id")
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return errors.New("bad id")
		}
	}
	return nil
}
