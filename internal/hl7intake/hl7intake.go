// Package hl7intake receives laboratory and radiology results as HL7 v2
// ORU^R01 messages over MLLP and delivers their PDFs through the intake
// service, like an API upload; every message gets an ACK. It maps a
// connection to an integration by its source network.
package hl7intake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"fse/db"
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

// Integration finds the live integration that may deliver reports from
// remote: one whose networks name the address explicitly (an integration
// open to any network is for the HTTP API, where it presents a token).
func (r *Receiver) Integration(ctx context.Context, remote net.Addr) (db.Integration, bool) {
	host, _, err := net.SplitHostPort(remote.String())
	if err != nil {
		host = remote.String()
	}
	ip := net.ParseIP(host)
	list, err := r.DB.Integrations(ctx)
	if err != nil || ip == nil {
		return db.Integration{}, false
	}
	for _, in := range list {
		if in.Revoked() || !in.Has(db.ScopeReports) {
			continue
		}
		for _, c := range in.AllowCIDRs {
			if _, n, err := net.ParseCIDR(c); err == nil && n.Contains(ip) {
				return in, true
			}
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

// Handle stores every ED document of an ORU^R01 and answers AA, or AE/AR
// with the reason. Everything is checked before anything is stored, so a
// refused message stores nothing, and a resent message changes nothing
// (report ids are stable: the same PDF again is a retry).
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
	reports, ref := r.reports(ctx, in, oru)
	if ref == nil {
		ref = r.store(ctx, in, remote, reports)
	}
	if ref != nil {
		r.Log.Warn("hl7 results refused", "integration", in.Name, "control_id", oru.ControlID, "reason", ref.text)
		return hl7.AckWithErrorCode(m, ref.code, ref.ec, ref.text)
	}
	r.Log.Info("hl7 results stored", "integration", in.Name, "control_id", oru.ControlID, "documents", len(reports))
	return hl7.Ack(m, hl7.AckAccept, "")
}

// report is one document ready to store.
type report struct {
	intake.Report
	pdf []byte
}

// reports turns the message's ED documents into reports and checks each.
func (r *Receiver) reports(ctx context.Context, in db.Integration, oru *hl7.ORU) ([]report, *refusal) {
	var out []report
	for _, o := range oru.Orders {
		accession := o.PlacerOrder
		other := o.FillerOrder
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
			if _, err := r.DB.VisitByAccession(ctx, in.FacilityID, accession); err != nil {
				return nil, &refusal{hl7.AckError, hl7.CodeTableValueNotFound, "no visit " + accession + " in this integration's facility"}
			}
			if _, err := io.Copy(io.Discard, pdfcheck.NewReader(bytes.NewReader(d.Data), r.Intake.UploadLimit)); err != nil {
				return nil, &refusal{hl7.AckError, hl7.CodeDataTypeError, fmt.Sprintf("OBX %s: not a complete PDF within the size limit", d.SetID)}
			}
			id := other
			if id == "" {
				id = oru.ControlID
			}
			out = append(out, report{pdf: d.Data, Report: intake.Report{Accession: accession, ReportID: id + "/" + d.SetID,
				Title: title(o, d), Publish: publishes(in, o.ResultStatus)}})
		}
	}
	if len(out) == 0 {
		return nil, &refusal{hl7.AckError, hl7.CodeRequiredFieldMissing, "the message carries no OBX of type ED with a PDF"}
	}
	return out, nil
}

func (r *Receiver) store(ctx context.Context, in db.Integration, remote net.Addr, reports []report) *refusal {
	host, _, _ := net.SplitHostPort(remote.String())
	for _, rep := range reports {
		rep.Body = bytes.NewReader(rep.pdf)
		if _, err := r.Intake.PutReport(ctx, in, host, rep.Report); err != nil {
			return refusalFor(err)
		}
	}
	return nil
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
// corrected (C) results are; preliminary ones wait; without a status the
// integration's own setting decides.
func publishes(in db.Integration, status string) bool {
	switch strings.ToUpper(strings.TrimSpace(status)) {
	case "F", "C":
		return true
	case "":
		return in.AutoPublish
	}
	return false
}
