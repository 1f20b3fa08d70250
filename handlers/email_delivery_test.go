package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	netmail "net/mail"
	"net/url"
	"strings"
	"testing"

	"fse/db"
	"fse/internal/pdfcrypt"
	"fse/jobs"
)

// Tests of reports by email, protected: opt-in per dossier, the PDF
// encrypted with AES-256 under the password the patient chose, which never
// travels with it; never a protected report.

const (
	edPassword = "Tramonto-Rosso.Sul_Po7"
	edEmail    = "giulia.verdi@example.it"
)

// edGiveEmail gives c's account a confirmed email address.
func edGiveEmail(t testing.TB, a *app, c *client, mobile, email string) {
	t.Helper()
	if rec := c.post("/profilo/recapiti", url.Values{"new_mobile": {mobile}, "new_email": {email},
		"contact_password": {patientPassword}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("contact change: %d", rec.Code)
	}
	a.confirmEmail(email)
}

// edOptIn posts the opt-in form of Giulia's dossier as c.
func (f *rfFamily) edOptIn(c *client, pw, pw2 string) *http.Response {
	f.a.t.Helper()
	return c.post(fmt.Sprintf("/fascicolo/%d/email", f.patient), url.Values{"password": {pw}, "password2": {pw2},
		"current": {patientPassword}}).Result()
}

// edAttachment returns the name and bytes of the one attachment of a
// received message, and its text part.
func edAttachment(t testing.TB, data []byte) (name string, file []byte, text string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("the message is %q, not multipart (%v)", mt, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if p.FileName() != "" {
			name, file = p.FileName(), b
		} else {
			text += string(b)
		}
	}
	return name, file, text
}

func TestReportByEmail(t *testing.T) {
	tests := []struct {
		name      string
		policy    db.ProtectedPolicy
		protected bool
		// after opting in, before publishing.
		before func(t *testing.T, f *rfFamily)
		// after publishing, before the deliver job.
		after    func(t *testing.T, f *rfFamily, doc int64)
		wantMail bool
	}{
		{"opted in: the report arrives encrypted, with a body that says only that", db.ProtectedPaper, false, nil, nil, true},
		{"never a protected report", db.ProtectedSelf, true, nil, nil, false},
		{"the report deleted before it was sent: it is not sent", db.ProtectedPaper, false, nil, func(t *testing.T, f *rfFamily, doc int64) {
			if rec := f.giulia.post(fmt.Sprintf("/fascicolo/referti/%d/elimina", doc), nil); rec.Code != http.StatusSeeOther {
				t.Fatalf("delete: %d", rec.Code)
			}
		}, false},
		{"turned off: nothing more is sent", db.ProtectedPaper, false, func(t *testing.T, f *rfFamily) {
			if rec := f.giulia.post(fmt.Sprintf("/fascicolo/%d/email/disattiva", f.patient), nil); rec.Code != http.StatusSeeOther {
				t.Fatalf("turn off: %d", rec.Code)
			}
		}, nil, false},
		{"the service turned off and on again: the choice stays", db.ProtectedPaper, false, func(t *testing.T, f *rfFamily) {
			f.giulia.post(fmt.Sprintf("/fascicolo/%d/disattiva", f.patient), nil)
			f.giulia.post(fmt.Sprintf("/fascicolo/%d/riattiva", f.patient), url.Values{"consent": {"1"}})
		}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rfSetup(t, newRightsApp(t, tt.policy, nil))
			edGiveEmail(t, f.a, f.giulia, rfGiuliaPhone, edEmail)
			if res := f.edOptIn(f.giulia, edPassword, edPassword); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("opt in: %d", res.StatusCode)
			}
			if tt.before != nil {
				tt.before(t, f)
			}
			visit := f.ownVisit
			if tt.protected {
				visit = f.visit(t, true)
			}
			doc, pdf := publishReport(t, f.desk, visit, "Ecografia addome")
			if tt.after != nil {
				tt.after(t, f, doc)
			}

			server, sender := pdStartSMTP(t)
			if err := (jobs.Deliver{DB: f.a.db, Email: sender, Now: f.a.Now, Log: slog.New(slog.DiscardHandler),
				Attach: jobs.ReportAttacher{DB: f.a.db, Keys: f.a.keys, Now: f.a.Now}}).RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			var mails [][]byte
			for _, m := range server.received() {
				if _, file, _ := edAttachment(t, m.data); file != nil {
					if len(m.rcpt) != 1 || m.rcpt[0] != edEmail {
						t.Errorf("the report went to %v", m.rcpt)
					}
					mails = append(mails, m.data)
				}
			}
			if !tt.wantMail {
				if len(mails) != 0 {
					t.Fatalf("%d emails with a report, want none", len(mails))
				}
				return
			}
			if len(mails) != 1 {
				t.Fatalf("%d emails with a report, want 1", len(mails))
			}
			name, file, text := edAttachment(t, mails[0])
			if name != "documento.pdf" {
				t.Errorf("attachment name %q reveals more than a document", name)
			}
			if !bytes.Contains(file, []byte("/Encrypt")) || bytes.Equal(file, pdf) {
				t.Errorf("the attachment is not the encrypted report")
			}
			opened, err := pdfcrypt.Decrypt(file, edPassword)
			if err != nil || !bytes.HasPrefix(opened, []byte("%PDF-")) {
				t.Errorf("the attachment does not open with the password: %v", err)
			}
			for _, wrong := range []string{"", "Tramonto-Rosso.Sul_Po8", patientPassword} {
				if _, err := pdfcrypt.Decrypt(file, wrong); err == nil {
					t.Errorf("the attachment opens with %q", wrong)
				}
			}
			for _, never := range []string{edPassword, "Ecografia", "Giulia", "Verdi", "Poliambulatorio"} {
				if strings.Contains(text, never) || bytes.Contains(mails[0], []byte(never)) {
					t.Errorf("the email reveals %q", never)
				}
			}
			if !strings.Contains(text, "in allegato") {
				t.Errorf("the body does not say a document is attached: %q", text)
			}
			if n := len(repAudit(f.a, db.ActionReportEmailed)); n != 1 {
				t.Errorf("report.emailed audited %d times, want 1", n)
			}
		})
	}
}

func TestEmailPasswordIsCheckedAndKeptSealed(t *testing.T) {
	f := rfSetup(t, newRightsApp(t, db.ProtectedPaper, nil))
	path := fmt.Sprintf("/fascicolo/%d/email", f.patient)
	if res := f.edOptIn(f.giulia, edPassword, edPassword); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("opt in without a confirmed email: %d, want 422", res.StatusCode)
	}
	edGiveEmail(t, f.a, f.giulia, rfGiuliaPhone, edEmail)
	tests := []struct {
		name, pw, pw2, current string
	}{
		{"spaces, which not every PDF reader takes", "gatto verde mangia", "gatto verde mangia", patientPassword},
		{"easy to guess", "password123", "password123", patientPassword},
		{"the patient's own name", "GiuliaVerdi1978", "GiuliaVerdi1978", patientPassword},
		{"not repeated the same", edPassword, edPassword + "x", patientPassword},
		{"a wrong account password", edPassword, edPassword, "non è la mia password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.giulia.post(path, url.Values{"password": {tt.pw}, "password2": {tt.pw2}, "current": {tt.current}})
			if rec.Code != http.StatusUnprocessableEntity {
				t.Errorf("status %d, want 422", rec.Code)
			}
			if n := authCount(t, f.a, `SELECT count(*) FROM email_deliveries`); n != 0 {
				t.Errorf("email delivery turned on")
			}
		})
	}
	if res := f.edOptIn(f.giulia, edPassword, edPassword); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("opt in: %d", res.StatusCode)
	}
	repCheckpoint(t, f.a)
	if bytes.Contains(repDBBytes(t, f.a), []byte(edPassword)) {
		t.Error("the email password is in the database files in clear")
	}
	if body := f.giulia.get(path).Body.String(); !strings.Contains(body, "email-delivery-on") {
		t.Error("the page does not say that the reports come by email")
	}
	if rec := f.mario.post(path, url.Values{"password": {edPassword}, "password2": {edPassword}, "current": {patientPassword}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("Mario, without an email, opts in: %d", rec.Code)
	}
	if n := len(repAudit(f.a, db.ActionEmailDeliveryOn)); n != 1 {
		t.Errorf("opt-in audited %d times, want 1", n)
	}
}

// TestAnEnglishAccountGetsItsReportByEmailInEnglish: the subject and body
// are the account's language, and so is the attachment's name.
func TestAnEnglishAccountGetsItsReportByEmailInEnglish(t *testing.T) {
	f := rfSetup(t, newRightsApp(t, db.ProtectedPaper, nil))
	edGiveEmail(t, f.a, f.giulia, rfGiuliaPhone, edEmail)
	if res := f.edOptIn(f.giulia, edPassword, edPassword); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("opt in: %d", res.StatusCode)
	}
	f.giulia.get("/lingua/en")
	publishReport(t, f.desk, f.ownVisit, "Ecografia addome")
	server, sender := pdStartSMTP(t)
	if err := (jobs.Deliver{DB: f.a.db, Email: sender, Now: f.a.Now, Log: slog.New(slog.DiscardHandler),
		Attach: jobs.ReportAttacher{DB: f.a.db, Keys: f.a.keys, Now: f.a.Now}}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range server.received() {
		name, file, text := edAttachment(t, m.data)
		if file == nil {
			continue
		}
		found = true
		msg, err := netmail.ReadMessage(bytes.NewReader(m.data))
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Header.Get("Subject"); got != "Online medical reports: document attached" {
			t.Errorf("subject %q, want the English one", got)
		}
		if name != "document.pdf" {
			t.Errorf("attachment name %q, want document.pdf", name)
		}
		if !strings.Contains(text, "Attached is a document") {
			t.Errorf("the body is not the English one: %q", text)
		}
	}
	if !found {
		t.Fatal("no email with the report")
	}
}
