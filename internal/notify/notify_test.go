package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/wneessen/go-mail"
)

const (
	testMobile = "+393331112233"
	testSMS    = "Il tuo codice di attivazione è 482913"
)

// smsServer starts a gateway stub answering status and returns its URL and
// the last request it saw.
func smsServer(t *testing.T, status int) (string, *http.Request, *smsPayload) {
	t.Helper()
	var (
		gotReq  http.Request
		gotBody smsPayload
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotReq = *r.Clone(context.Background())
		if err := json.NewDecoder(r.Body).Decode(&gotBody); err != nil {
			t.Errorf("decoding request body: %v", err)
		}
		w.WriteHeader(status)
		// Real gateways echo what they got; none of it may reach the error.
		_, _ = io.WriteString(w, `{"error":"rejected","to":"`+gotBody.To+`","text":"`+gotBody.Text+`"}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &gotReq, &gotBody
}

func TestSMSGatewaySend(t *testing.T) {
	tests := []struct {
		name       string
		authHeader string
		status     int
		wantErr    bool
	}{
		{"ok with auth", "Authorization: Bearer xyz", http.StatusOK, false},
		{"accepted without auth", "", http.StatusAccepted, false},
		{"server error", "Authorization: Bearer xyz", http.StatusInternalServerError, true},
		{"unauthorized", "X-Api-Key: k1", http.StatusUnauthorized, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, req, body := smsServer(t, tt.status)
			g := &SMSGateway{URL: url, AuthHeader: tt.authHeader}
			err := g.Send(context.Background(), Message{To: testMobile, Body: testSMS})

			if got, want := err != nil, tt.wantErr; got != want {
				t.Fatalf("Send error = %v, want error: %v", err, want)
			}
			if got, want := req.Method, http.MethodPost; got != want {
				t.Errorf("method = %q, want %q", got, want)
			}
			if got, want := req.Header.Get("Content-Type"), "application/json"; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			if got, want := *body, (smsPayload{To: testMobile, Text: testSMS}); got != want {
				t.Errorf("body = %+v, want %+v", got, want)
			}
			if tt.authHeader != "" {
				name, value, _ := ParseAuthHeader(tt.authHeader)
				if got, want := req.Header.Get(name), value; got != want {
					t.Errorf("header %s = %q, want %q", name, got, want)
				}
			} else if got := req.Header.Get("Authorization"); got != "" {
				t.Errorf("Authorization = %q, want none", got)
			}
			if err != nil {
				msg := err.Error()
				if !strings.Contains(msg, strconv.Itoa(tt.status)) {
					t.Errorf("error %q does not mention status %d", msg, tt.status)
				}
				for _, secret := range []string{testMobile, "482913", "rejected"} {
					if strings.Contains(msg, secret) {
						t.Errorf("error %q leaks %q", msg, secret)
					}
				}
			}
		})
	}
}

func TestSMSGatewayTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// With the body read, the server notices the client hanging up and
		// cancels r.Context(), so Close does not wait for the full sleep.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	start := time.Now()
	err := (&SMSGateway{URL: srv.URL}).Send(ctx, Message{To: testMobile, Body: testSMS})
	if err == nil {
		t.Fatal("Send succeeded past the context deadline")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want one wrapping context.DeadlineExceeded", err)
	}
	if got, limit := time.Since(start), 2*time.Second; got > limit {
		t.Errorf("Send took %v, want under %v", got, limit)
	}
}

func TestSMSGatewayNetworkErrorHidesSecrets(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more
	url := strings.Replace(srv.URL, "http://", "http://apiuser:pw-SECRET1@", 1) + "/send?key=SECRET2"

	err := (&SMSGateway{URL: url}).Send(context.Background(), Message{To: testMobile, Body: testSMS})
	if err == nil {
		t.Fatal("Send to a closed server succeeded")
	}
	for _, secret := range []string{"SECRET1", "SECRET2", "apiuser", testMobile, testSMS} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q leaks %q", err, secret)
		}
	}
}

func TestParseAuthHeader(t *testing.T) {
	tests := []struct {
		in        string
		wantName  string
		wantValue string
		wantErr   bool
	}{
		{"Authorization: Bearer x", "Authorization", "Bearer x", false},
		{"X-Api-Key:abc123", "X-Api-Key", "abc123", false},
		{"nocolon", "", "", true},
		{": x", "", "", true},
		{"Authorization:", "", "", true},
		{"Bad Name: x", "", "", true},
		{"Authorization: Bearer x\r\nX-Injected: 1", "", "", true},
		{"Authorization: Bearer x\nX-Injected: 1", "", "", true},
		{"X-Evil\r\nHost: y", "", "", true},
	}
	for _, tt := range tests {
		name, value, err := ParseAuthHeader(tt.in)
		if got, want := err != nil, tt.wantErr; got != want {
			t.Errorf("ParseAuthHeader(%q) error = %v, want error: %v", tt.in, err, want)
			continue
		}
		if got, want := name, tt.wantName; got != want {
			t.Errorf("ParseAuthHeader(%q) name = %q, want %q", tt.in, got, want)
		}
		if got, want := value, tt.wantValue; got != want {
			t.Errorf("ParseAuthHeader(%q) value = %q, want %q", tt.in, got, want)
		}
	}
}

// smtpRecord is what the stub SMTP server saw in one conversation.
type smtpRecord struct {
	mu                 sync.Mutex
	from               string
	rcpt               []string
	data               []byte
	authed             bool
	authUser, authPass string
}

// smtpBackend is a tiny go-smtp backend that records everything and can
// reject recipients or credentials, or stall before DATA.
type smtpBackend struct {
	rec        smtpRecord
	rejectRcpt bool
	rejectAuth bool
	stall      chan struct{} // when set, RCPT waits until it is closed
}

func (b *smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: b}, nil }

type smtpSession struct{ b *smtpBackend }

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		r := &s.b.rec
		r.mu.Lock()
		defer r.mu.Unlock()
		r.authed, r.authUser, r.authPass = true, user, pass
		if s.b.rejectAuth {
			return errors.New("invalid credentials")
		}
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.b.rec.mu.Lock()
	defer s.b.rec.mu.Unlock()
	s.b.rec.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.stall != nil {
		<-s.b.stall
	}
	if s.b.rejectRcpt {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
	}
	s.b.rec.mu.Lock()
	defer s.b.rec.mu.Unlock()
	s.b.rec.rcpt = append(s.b.rec.rcpt, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.b.rec.mu.Lock()
	defer s.b.rec.mu.Unlock()
	s.b.rec.data = b
	return err
}

func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

// startSMTP serves be on a loopback port and returns "127.0.0.1:port".
func startSMTP(t *testing.T, be *smtpBackend) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // plain-text AUTH is fine on loopback
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

const (
	testFrom    = "Referti Online <referti@example.it>"
	testTo      = "paziente@example.com"
	testSubject = "Nuovo documento disponibile – è pronto"
	testBody    = "Gentile paziente,\nil suo referto è pronto: può scaricarlo dal portale.\nCordiali saluti – Poliambulatorio"
)

// parseSent splits the DATA the stub received into headers and the decoded
// body, the way a mail client would read it.
func parseSent(t *testing.T, data []byte) (netmail.Header, string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading sent message: %v\n%s", err, data)
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("decoding body: %v", err)
	}
	text := strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	return msg.Header, text
}

func TestSMTPSend(t *testing.T) {
	tests := []struct {
		name               string
		userinfo           string
		wantUser, wantPass string
	}{
		{"with auth", "mario.rossi:s3gr%40to%21@", "mario.rossi", "s3gr@to!"},
		{"without auth", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &smtpBackend{}
			addr := startSMTP(t, be)
			s, err := NewSMTP("smtp://"+tt.userinfo+addr, testFrom)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), Message{To: testTo, Subject: testSubject, Body: testBody}); err != nil {
				t.Fatalf("Send: %v", err)
			}

			rec := &be.rec
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if got, want := rec.authed, tt.wantUser != ""; got != want {
				t.Errorf("AUTH used = %v, want %v", got, want)
			}
			if got, want := rec.authUser, tt.wantUser; got != want {
				t.Errorf("AUTH user = %q, want %q", got, want)
			}
			if got, want := rec.authPass, tt.wantPass; got != want {
				t.Errorf("AUTH password = %q, want %q", got, want)
			}
			if got, want := rec.from, "referti@example.it"; got != want {
				t.Errorf("MAIL FROM = %q, want %q", got, want)
			}
			if got, want := strings.Join(rec.rcpt, ","), testTo; got != want {
				t.Errorf("RCPT TO = %q, want %q", got, want)
			}

			h, body := parseSent(t, rec.data)
			subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
			if err != nil {
				t.Fatalf("decoding Subject %q: %v", h.Get("Subject"), err)
			}
			if got, want := subject, testSubject; got != want {
				t.Errorf("Subject = %q, want %q", got, want)
			}
			if got, want := body, testBody; got != want {
				t.Errorf("body = %q, want %q", got, want)
			}
			from, err := h.AddressList("From")
			if err != nil || len(from) != 1 {
				t.Fatalf("From header %q: %v", h.Get("From"), err)
			}
			if got, want := *from[0], (netmail.Address{Name: "Referti Online", Address: "referti@example.it"}); got != want {
				t.Errorf("From = %+v, want %+v", got, want)
			}
			to, err := h.AddressList("To")
			if err != nil || len(to) != 1 {
				t.Fatalf("To header %q: %v", h.Get("To"), err)
			}
			if got, want := to[0].Address, testTo; got != want {
				t.Errorf("To = %q, want %q", got, want)
			}
			mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
			if err != nil {
				t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
			}
			if got, want := mediaType+";"+strings.ToUpper(params["charset"]), "text/plain;UTF-8"; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			if _, err := h.Date(); err != nil {
				t.Errorf("Date header %q: %v", h.Get("Date"), err)
			}
			if got := h.Get("Message-Id"); !strings.HasPrefix(got, "<") || !strings.HasSuffix(got, "@example.it>") {
				t.Errorf("Message-ID = %q, want <random@example.it>", got)
			}
		})
	}
}

func TestSMTPSendErrors(t *testing.T) {
	tests := []struct {
		name     string
		be       *smtpBackend
		userinfo string
	}{
		{"recipient rejected", &smtpBackend{rejectRcpt: true}, ""},
		{"credentials rejected", &smtpBackend{rejectAuth: true}, "mario:Pa55-segreta@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startSMTP(t, tt.be)
			s, err := NewSMTP("smtp://"+tt.userinfo+addr, testFrom)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), Message{To: testTo, Subject: testSubject, Body: testBody})
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			for _, secret := range []string{"Pa55-segreta", testTo, "referto"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks %q", err, secret)
				}
			}
			if tt.be.rejectRcpt {
				var se *mail.SendError
				if !errors.As(err, &se) {
					t.Fatalf("error %v does not wrap *mail.SendError", err)
				}
				if got, want := se.ErrorCode(), 550; got != want {
					t.Errorf("SMTP code = %d, want %d", got, want)
				}
			}
		})
	}
}

// TestSMTPMandatorySTARTTLS checks that with the policy used for remote hosts
// nothing, and above all no password, is sent to a server without STARTTLS.
func TestSMTPMandatorySTARTTLS(t *testing.T) {
	be := &smtpBackend{}
	addr := startSMTP(t, be)
	s, err := NewSMTP("smtp://mario:Pa55-segreta@"+addr, testFrom)
	if err != nil {
		t.Fatal(err)
	}
	s.tlsPolicy = mail.TLSMandatory // what a non-loopback host gets

	err = s.Send(context.Background(), Message{To: testTo, Subject: testSubject, Body: testBody})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send error = %v, want one about STARTTLS", err)
	}
	be.rec.mu.Lock()
	defer be.rec.mu.Unlock()
	if be.rec.authed || be.rec.from != "" || be.rec.data != nil {
		t.Errorf("server saw AUTH=%v MAIL FROM=%q DATA=%d bytes, want nothing", be.rec.authed, be.rec.from, len(be.rec.data))
	}
}

func TestSMTPContextDeadline(t *testing.T) {
	be := &smtpBackend{stall: make(chan struct{})}
	addr := startSMTP(t, be)
	t.Cleanup(func() { close(be.stall) }) // runs before the server closes
	s, err := NewSMTP("smtp://"+addr, testFrom)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()

	start := time.Now()
	err = s.Send(ctx, Message{To: testTo, Subject: testSubject, Body: testBody})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send error = %v, want context.DeadlineExceeded", err)
	}
	if got, limit := time.Since(start), 3*time.Second; got > limit {
		t.Errorf("Send took %v, want under %v", got, limit)
	}
}

func TestNewSMTPErrors(t *testing.T) {
	tests := []struct {
		url, from string
	}{
		{"http://x", testFrom},
		{"smtp://", testFrom},
		{"smtp://host:notaport", testFrom},
		{"smtp://mario:Pa55-segreta@host:notaport", testFrom},
		{"smtp://host:70000", testFrom},
		{"smtp://mario@host", testFrom},
		{"smtp://host/path", testFrom},
		{"smtp://host?tls=no", testFrom},
		{"smtp://host", "not an address"},
		{"smtp://host", ""},
	}
	for _, tt := range tests {
		s, err := NewSMTP(tt.url, tt.from)
		if err == nil {
			t.Errorf("NewSMTP(%q, %q) = %+v, want an error", tt.url, tt.from, s)
			continue
		}
		if strings.Contains(err.Error(), "Pa55-segreta") {
			t.Errorf("NewSMTP(%q) error %q leaks the password", tt.url, err)
		}
	}
}

func TestNewSMTPDefaults(t *testing.T) {
	tests := []struct {
		url          string
		wantHost     string
		wantPort     int
		wantImplicit bool
		wantPolicy   mail.TLSPolicy
	}{
		{"smtp://mail.example.it", "mail.example.it", 587, false, mail.TLSMandatory},
		{"smtps://mail.example.it", "mail.example.it", 465, true, mail.TLSMandatory},
		{"smtp://u:p@mail.example.it:2525", "mail.example.it", 2525, false, mail.TLSMandatory},
		{"smtp://127.0.0.1:25", "127.0.0.1", 25, false, mail.TLSOpportunistic},
		{"smtp://localhost", "localhost", 587, false, mail.TLSOpportunistic},
		{"smtp://[::1]:1025", "::1", 1025, false, mail.TLSOpportunistic},
		{"smtp://127.attacker.example", "127.attacker.example", 587, false, mail.TLSMandatory},
	}
	for _, tt := range tests {
		s, err := NewSMTP(tt.url, "referti@example.it")
		if err != nil {
			t.Errorf("NewSMTP(%q): %v", tt.url, err)
			continue
		}
		got := []any{s.host, s.port, s.implicitTLS, s.tlsPolicy}
		want := []any{tt.wantHost, tt.wantPort, tt.wantImplicit, tt.wantPolicy}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("NewSMTP(%q) = host %v port %v implicitTLS %v policy %v, want %v", tt.url, got[0], got[1], got[2], got[3], want)
				break
			}
		}
	}
}

func TestConsoleSend(t *testing.T) {
	tests := []struct {
		channel string
		m       Message
		want    string
	}{
		{"SMS", Message{To: testMobile, Body: testSMS}, "── SMS to +393331112233 ──\n" + testSMS + "\n"},
		{"EMAIL", Message{To: testTo, Subject: testSubject, Body: "Il referto è pronto.\n"},
			"── EMAIL to " + testTo + " ──\nSubject: " + testSubject + "\nIl referto è pronto.\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := (Console{W: &buf, Channel: tt.channel}).Send(context.Background(), tt.m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got, want := buf.String(), tt.want; got != want {
			t.Errorf("%s output = %q, want %q", tt.channel, got, want)
		}
	}
}
