// Package hl7intake receives laboratory and radiology results as HL7 v2
// ORU^R01 messages over MLLP and delivers their PDFs through the intake
// service, like an API upload; every message gets an ACK. It maps a
// connection to the integration that chose MLLP for its source network.
package hl7intake

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"

	"fse/db"
	"fse/internal/codicefiscale"
	"fse/internal/hl7"
	"fse/internal/intake"
	"fse/internal/pdfcheck"
)

// Where the accession number travels in OBR.
const (
	PlacerOrder = "obr-2"
	FillerOrder = "obr-3"
)

// Receiver answers ORU^R01 messages.
type Receiver struct {
	DB     *db.DB
	Intake *intake.Service
	// AccessionField is PlacerOrder (the default) or FillerOrder.
	AccessionField string
	Log            *slog.Logger
}

// Integration finds the integration an MLLP connection from remote acts
// as: the live one that chose MLLP (fse integration add --mllp) and names
// the address among its networks. On MLLP the network is the only
// credential, so it is never implied by the networks that limit where an
// API token may be used.
func (r *Receiver) Integration(ctx context.Context, remote net.Addr) (db.Integration, bool) {
	host, _, err := net.SplitHostPort(remote.String())
	if err != nil {
		host = remote.String()
	}
	list, err := r.DB.Integrations(ctx)
	if err != nil {
		r.Log.Error("mllp: list integrations", "err", err)
		return db.Integration{}, false
	}
	for _, in := range list {
		if in.AcceptsMLLPFrom(host) {
			return in, true
		}
	}
	return db.Integration{}, false
}

// Allow refuses a connection from a network no integration names.
func (r *Receiver) Allow(remote net.Addr) bool {
	_, ok := r.Integration(context.Background(), remote)
	if !ok {
		r.Log.Warn("mllp connection from an unknown network refused", "remote", remote.String())
	}
	return ok
}

// Reject answers a message too large to be taken.
func (r *Receiver) Reject(remote net.Addr, head []byte, reason error) []byte {
	return hl7.AckForUnparsable(head, "message too large: "+reason.Error())
}

// refusal is a reason to answer AE (the message was understood but cannot
// be taken) or AR (it cannot be processed at all).
type refusal struct {
	code hl7.AckCode
	ec   hl7.ErrorCode
	text string
}

// Handle stores every ED document of an ORU^R01, all or none, and answers
// AA, or AE/AR with the reason: a refused message stores nothing, and a
// resent one changes nothing (report ids are stable: the same PDF again is
// a retry). A codice fiscale in PID must be the visit's patient's.
func (r *Receiver) Handle(ctx context.Context, remote net.Addr, raw []byte) []byte {
	m, err := hl7.Parse(raw)
	if err != nil {
		r.Log.Warn("hl7 message refused", "remote", remote.String(), "err", err)
		return hl7.AckForUnparsableWithErrorCode(raw, hl7.ErrorCodeOf(err), "cannot parse the message: "+err.Error())
	}
	in, ok := r.Integration(ctx, remote)
	if !ok {
		return hl7.AckWithErrorCode(m, hl7.AckReject, hl7.CodeApplicationInternalError, "this network may not deliver reports to fse")
	}
	oru, err := hl7.ParseORU(m)
	if err != nil {
		r.Log.Warn("hl7 message refused", "integration", in.Name, "control_id", m.ControlID(), "err", err)
		return hl7.AckWithErrorCode(m, hl7.AckReject, hl7.ErrorCodeOf(err), err.Error())
	}
	reports, ref := r.reports(oru)
	if ref == nil {
		host, _, _ := net.SplitHostPort(remote.String())
		// All documents of the message, or none.
		if _, err := r.Intake.PutReports(ctx, in, host, reports); err != nil {
			ref = refusalFor(err)
		}
	}
	if ref != nil {
		r.Log.Warn("hl7 results refused", "integration", in.Name, "control_id", oru.ControlID, "reason", ref.text)
		return hl7.AckWithErrorCode(m, ref.code, ref.ec, ref.text)
	}
	r.Log.Info("hl7 results stored", "integration", in.Name, "control_id", oru.ControlID, "documents", len(reports))
	return hl7.Ack(m, hl7.AckAccept, "")
}

// reports turns the message's ED documents into reports, refusing a
// document that could not be decoded or names no visit.
func (r *Receiver) reports(oru *hl7.ORU) ([]intake.Report, *refusal) {
	cf := fiscalCode(oru.PatientIDs)
	var out []intake.Report
	for _, o := range oru.Orders {
		accession, other := o.PlacerOrder, o.FillerOrder
		if r.AccessionField == FillerOrder {
			accession, other = o.FillerOrder, o.PlacerOrder
		}
		for _, d := range o.Documents {
			if d.Err != nil {
				return nil, &refusal{hl7.AckError, hl7.ErrorCodeOf(d.Err), d.Err.Error()}
			}
			if accession == "" {
				return nil, &refusal{hl7.AckError, hl7.CodeRequiredFieldMissing, "OBR carries no accession number in " + strings.ToUpper(r.accessionField())}
			}
			// The report's id must be the same on every delivery of it, so a
			// resend is a retry and a corrected result replaces its report:
			// the other order number, else the ordered service, with the OBX.
			id := other
			if id == "" {
				id = accession + "/" + o.ServiceID.Code
			}
			out = append(out, intake.Report{Accession: accession, ReportID: id + "/" + d.SetID, Title: title(o, d),
				Publish: publishes(o.ResultStatus), FiscalCode: cf, Body: bytes.NewReader(d.Data)})
		}
	}
	if len(out) == 0 {
		return nil, &refusal{hl7.AckError, hl7.CodeRequiredFieldMissing, "the message carries no OBX of type ED with a PDF"}
	}
	return out, nil
}

// fiscalCode is the patient's codice fiscale among PID-3's identifiers, if
// the sender gives one: it must then be the visit's patient's.
func fiscalCode(ids []hl7.PatientID) string {
	for _, id := range ids {
		if cf, err := codicefiscale.Parse(id.ID); err == nil {
			return cf.String()
		}
	}
	return ""
}

// refusalFor explains a refusal of the intake to the sending system.
func refusalFor(err error) *refusal {
	switch {
	case errors.Is(err, db.ErrOnlineDeclined):
		return &refusal{hl7.AckError, hl7.CodeApplicationInternalError, "the patient declined online delivery: the report goes on paper"}
	case errors.Is(err, db.ErrOnlineDisabled):
		return &refusal{hl7.AckError, hl7.CodeApplicationInternalError, "the patient turned online delivery off: the report goes on paper"}
	case errors.Is(err, db.ErrReportDeletedByPatient), errors.Is(err, db.ErrReportExpired):
		return &refusal{hl7.AckError, hl7.CodeApplicationInternalError, err.Error()}
	case errors.Is(err, db.ErrNotFound):
		return &refusal{hl7.AckError, hl7.CodeTableValueNotFound, "no such visit in this integration's facility (check the accession number)"}
	case errors.Is(err, intake.ErrWrongPatient):
		return &refusal{hl7.AckError, hl7.CodeTableValueNotFound, "PID names another patient than the visit's: check the accession number"}
	case errors.Is(err, db.ErrReportOfAnother):
		return &refusal{hl7.AckError, hl7.CodeApplicationInternalError, err.Error()}
	case errors.Is(err, pdfcheck.ErrNotPDF), errors.Is(err, pdfcheck.ErrTruncated), errors.Is(err, pdfcheck.ErrTooLarge):
		return &refusal{hl7.AckError, hl7.CodeDataTypeError, "an OBX does not hold a complete PDF within the size limit"}
	case errors.Is(err, intake.ErrScope):
		return &refusal{hl7.AckReject, hl7.CodeApplicationInternalError, "this integration may not deliver reports"}
	}
	var inv *intake.InvalidError
	if errors.As(err, &inv) {
		return &refusal{hl7.AckError, hl7.CodeRequiredFieldMissing, inv.Error()}
	}
	// Anything else (a busy disk, a database error) may pass: the sender
	// sends the message again, and nothing was half-stored.
	return &refusal{hl7.AckError, hl7.CodeApplicationInternalError, "temporary failure storing the report; send the message again"}
}

func (r *Receiver) accessionField() string {
	if r.AccessionField == FillerOrder {
		return FillerOrder
	}
	return PlacerOrder
}

// title names the report as the patient sees it: the requested service's
// text, else the document's observation text.
func title(o hl7.Order, d hl7.Document) string {
	for _, t := range []string{o.ServiceID.Text, d.ObservationID.Text, o.ServiceID.Code} {
		if t = strings.TrimSpace(t); t != "" {
			if len([]rune(t)) > db.MaxTitleLen {
				t = string([]rune(t)[:db.MaxTitleLen])
			}
			return t
		}
	}
	return "Referto"
}

// publishes tells whether results are published at once: final (F) and
// corrected (C) results, or results without a status; preliminary (P)
// and other partial ones wait.
func publishes(status string) bool {
	switch strings.ToUpper(strings.TrimSpace(status)) {
	case "F", "C", "":
		return true
	}
	return false
}
