package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/notify"
	"fse/jobs"
)

// Tests of the "new report" notices: what is queued, what is delivered by
// SMS and SMTP, and that neither notices nor logs reveal anything.

// pdOutboxRow is a queued message as stored.
type pdOutboxRow struct {
	channel, recipient, subject, body string
	sent                              bool
}

func pdNotices(t testing.TB, a *app) []pdOutboxRow {
	t.Helper()
	rows, err := a.raw.Query(`SELECT channel, recipient, subject, body, sent_at IS NOT NULL FROM outbox
		WHERE kind = 'report_available' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []pdOutboxRow
	for rows.Next() {
		var r pdOutboxRow
		if err := rows.Scan(&r.channel, &r.recipient, &r.subject, &r.body, &r.sent); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pdForbidden is what a "new document" message must never say.
var pdForbidden = []string{"Esami del sangue", "Radiografia torace", "Emocromo", "Glicemia", "Poliambulatorio", "Mario", "Rossi", rossiCF}

func pdCheckNoticeText(t testing.TB, where, text string) {
	t.Helper()
	if !strings.Contains(text, pdPortalLink) {
		t.Errorf("%s %q has no portal link %s", where, text, pdPortalLink)
	}
	for _, f := range pdForbidden {
		if strings.Contains(strings.ToLower(text), strings.ToLower(f)) {
			t.Errorf("%s %q reveals %q", where, text, f)
		}
	}
}

// pdActiveRossi returns an app where Rossi's dossier is active (one report
// published before activation), his client, the desk and the slip code.
func pdActiveRossi(t *testing.T) (*app, *client, *client, string) {
	t.Helper()
	a := newApp(t)
	desk := a.deskClient()
	_, code, _ := a.publishedVisit()
	if got := pdNotices(t, a); len(got) != 0 {
		t.Fatalf("publishing for a patient without account queued %+v", got)
	}
	c := a.register("Mario", "Rossi", pdRossiTyped, "mario@example.it")
	pdActivate(t, c, rossiCF, code)
	// A patient with no account at all: publishing queues nothing.
	bVisit, _ := desk.accept(pdBianchiForm(t, a))
	publishReport(t, desk, bVisit, "Ecografia addome")
	if got := pdNotices(t, a); len(got) != 0 {
		t.Fatalf("publishing for Bianchi (no account) queued %+v", got)
	}
	return a, c, desk, code
}

func TestPDNotifications(t *testing.T) {
	tests := []struct {
		pref                string // "" keeps the default
		wantSMS, wantEmails int
	}{
		{"", 1, 0},
		{"sms", 1, 0},
		{"email", 0, 1},
		{"both", 1, 1},
	}
	for _, tt := range tests {
		t.Run("preference "+pdOr(tt.pref, "default"), func(t *testing.T) {
			a, c, desk, code := pdActiveRossi(t)
			if tt.pref != "" {
				rec := c.post("/profilo/preferenze", url.Values{"notify": {tt.pref}})
				if rec.Code != http.StatusSeeOther {
					t.Fatalf("preferences: %d\n%s", rec.Code, rec.Body.String())
				}
			}
			// Two reports published together are one notice per channel.
			visit2, _ := desk.accept(a.acceptForm())
			if rec := desk.upload(visit2, file{"Radiografia torace", "a.pdf", samplePDF(t, "Radiografia torace")},
				file{"Esami del sangue", "b.pdf", samplePDF(t, "Esami del sangue")}); rec.Code != http.StatusSeeOther {
				t.Fatalf("upload: %d", rec.Code)
			}
			if rec := desk.post(fmt.Sprintf("/desk/visits/%d/publish", visit2), nil); rec.Code != http.StatusSeeOther {
				t.Fatalf("publish: %d", rec.Code)
			}
			if n := len(a.auditActions(db.AuditFilter{Action: "report.publish"})); n != 4 {
				t.Fatalf("report.publish rows = %d, want 4 (two visits before, two reports now)", n)
			}

			notices := pdNotices(t, a)
			var sms, emails int
			for _, n := range notices {
				switch n.channel {
				case db.ChannelSMS:
					sms++
					if n.recipient != rossiMobile {
						t.Errorf("SMS to %q, want %q", n.recipient, rossiMobile)
					}
					if n.subject != "" {
						t.Errorf("SMS has subject %q", n.subject)
					}
				case db.ChannelEmail:
					emails++
					if n.recipient != "mario@example.it" {
						t.Errorf("email to %q, want mario@example.it", n.recipient)
					}
					pdCheckNoticeText(t, "email subject", n.subject+" "+pdPortalLink)
				}
				pdCheckNoticeText(t, n.channel+" body", n.body)
			}
			if sms != tt.wantSMS || emails != tt.wantEmails {
				t.Fatalf("queued %d SMS and %d emails, want %d and %d: %+v", sms, emails, tt.wantSMS, tt.wantEmails, notices)
			}

			err := jobs.Deliver{DB: a.db, SMS: &notify.SMSGateway{URL: a.sms.URL}, Now: a.Now,
				Log: slog.New(slog.DiscardHandler)}.RunOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			received := a.smsTo(rossiMobile)
			for _, n := range pdNotices(t, a) {
				if n.channel != db.ChannelSMS {
					continue
				}
				if !n.sent {
					t.Errorf("SMS not marked sent after delivery")
				}
				if !slices.Contains(received, n.body) {
					t.Errorf("gateway did not receive %q; got %q", n.body, received)
				}
			}
			var bodies []string
			for _, n := range notices {
				bodies = append(bodies, n.body)
			}
			pdAssertLogsClean(t, a, append(append(pdCodeForms(code), rossiCF), bodies...)...)
		})
	}
}

func pdOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// pdSMTP records what an in-process SMTP server received.
type pdSMTP struct {
	mu   sync.Mutex
	msgs []pdMail
}

type pdMail struct {
	from string
	rcpt []string
	data []byte
}

func (b *pdSMTP) NewSession(*smtp.Conn) (smtp.Session, error) { return &pdSMTPSession{b: b}, nil }

func (b *pdSMTP) received() []pdMail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.msgs)
}

type pdSMTPSession struct {
	b   *pdSMTP
	cur pdMail
}

func (s *pdSMTPSession) Mail(from string, _ *smtp.MailOptions) error { s.cur.from = from; return nil }

func (s *pdSMTPSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.rcpt = append(s.cur.rcpt, to)
	return nil
}

func (s *pdSMTPSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = data
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.cur)
	s.b.mu.Unlock()
	s.cur = pdMail{}
	return nil
}

func (s *pdSMTPSession) Reset() { s.cur = pdMail{} }

func (s *pdSMTPSession) Logout() error { return nil }

// pdStartSMTP serves an in-process SMTP server on loopback and returns a
// sender that talks to it.
func pdStartSMTP(t *testing.T) (*pdSMTP, *notify.SMTP) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	be := &pdSMTP{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	sender, err := notify.NewSMTP("smtp://"+ln.Addr().String(), "referti@example.it")
	if err != nil {
		t.Fatal(err)
	}
	return be, sender
}

// pdMailBody decodes a received message as a mail client would.
func pdMailBody(t testing.TB, data []byte) (netmail.Header, string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading message: %v\n%s", err, data)
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return msg.Header, strings.ReplaceAll(string(b), "\r\n", "\n")
}

func TestPDNotificationSMTP(t *testing.T) {
	a, c, desk, code := pdActiveRossi(t)
	if rec := c.post("/profilo/preferenze", url.Values{"notify": {"email"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("preferences: %d", rec.Code)
	}
	visit2, _ := desk.accept(a.acceptForm())
	publishReport(t, desk, visit2, "Radiografia torace")

	server, sender := pdStartSMTP(t)
	smsBefore := len(a.smsTo(rossiMobile))
	err := jobs.Deliver{DB: a.db, SMS: &notify.SMSGateway{URL: a.sms.URL}, Email: sender, Now: a.Now,
		Log: slog.New(slog.DiscardHandler)}.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := server.received()
	if len(got) != 1 {
		t.Fatalf("SMTP server received %d messages, want 1", len(got))
	}
	if want := []string{"mario@example.it"}; !slices.Equal(got[0].rcpt, want) {
		t.Errorf("RCPT = %v, want %v", got[0].rcpt, want)
	}
	if got[0].from != "referti@example.it" {
		t.Errorf("MAIL FROM = %q, want referti@example.it", got[0].from)
	}
	hdr, body := pdMailBody(t, got[0].data)
	pdCheckNoticeText(t, "delivered email body", body)
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(hdr.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	pdCheckNoticeText(t, "delivered email subject", subject+" "+pdPortalLink)
	if n := len(a.smsTo(rossiMobile)); n != smsBefore {
		t.Errorf("email preference also sent %d SMS", n-smsBefore)
	}
	notices := pdNotices(t, a)
	if len(notices) != 1 || notices[0].channel != db.ChannelEmail || !notices[0].sent {
		t.Errorf("outbox = %+v, want one sent email", notices)
	}
	pdAssertLogsClean(t, a, append(pdCodeForms(code), rossiCF, notices[0].body)...)
}

// TestPDDossierLogsKeepNoSecrets goes through activation (failed and
// successful), downloads, notifications on both channels and expiry, with
// every job logging to the application log, and then reads the log.
func TestPDDossierLogsKeepNoSecrets(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	visitID, code, _ := a.publishedVisit()
	c := a.register("Mario", "Rossi", pdRossiTyped, "mario@example.it")
	otherCF := pdBianchiCF(t)
	for _, att := range [][2]string{{otherCF, code}, {rossiCF, actcode.New()}, {"RSSMRA85T10A562X", code}, {rossiCF, code[:5]}} {
		if rec := c.activate(att[0], att[1]); rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("wrong attempt: %d", rec.Code)
		}
	}
	pdActivate(t, c, strings.ToLower(rossiCF), strings.ToLower(code))
	docID := lastDocument(t, a, visitID)
	for _, p := range []string{fmt.Sprintf("/fascicolo/referti/%d", docID), fmt.Sprintf("/fascicolo/referti/%d/apri", docID), "/fascicolo/referti/999999"} {
		c.get(p)
	}
	if rec := c.post("/profilo/preferenze", url.Values{"notify": {"both"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("preferences: %d", rec.Code)
	}
	visit2, _ := desk.accept(a.acceptForm())
	publishReport(t, desk, visit2, "Radiografia torace")

	log := slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, sender := pdStartSMTP(t)
	if err := (jobs.Deliver{DB: a.db, SMS: &notify.SMSGateway{URL: a.sms.URL}, Email: sender, Now: a.Now, Log: log}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.advance(61 * 24 * time.Hour)
	if err := (jobs.Expire{DB: a.db, Now: a.Now, Log: log}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.get(fmt.Sprintf("/fascicolo/referti/%d", docID))

	notices := pdNotices(t, a)
	if len(notices) != 2 {
		t.Fatalf("notices = %+v, want an SMS and an email", notices)
	}
	secrets := append(pdCodeForms(code), rossiCF, otherCF, "RSSMRA85T10A562X")
	for _, n := range notices {
		if !n.sent {
			t.Errorf("%s notice not delivered", n.channel)
		}
		secrets = append(secrets, n.body, n.recipient)
	}
	for _, n := range notices {
		if n.channel != db.ChannelEmail {
			continue
		}
		for _, line := range strings.Split(n.body, "\n") {
			if len(line) > 20 { // each line of the email body on its own
				secrets = append(secrets, line)
			}
		}
	}
	pdAssertLogsClean(t, a, secrets...)
}
