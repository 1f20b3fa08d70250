package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// smtpTimeout bounds a whole SMTP conversation when the caller's context has
// no earlier deadline, so a silent server cannot hold a worker forever.
const smtpTimeout = 30 * time.Second

// SMTP sends email with github.com/wneessen/go-mail.
//
// It opens one connection per message: the portal sends few emails, and a
// fresh connection avoids keeping idle sessions that servers drop anyway.
type SMTP struct {
	host        string
	port        int
	implicitTLS bool           // smtps://: TLS from the first byte
	tlsPolicy   mail.TLSPolicy // STARTTLS policy for smtp://
	loopback    bool           // the relay is on this machine
	user, pass  string         // empty user = no AUTH
	from        *netmail.Address
}

// Addr is the mail server's host:port, for a check that it answers.
func (s *SMTP) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// NewSMTP parses rawURL and checks from, so that configuration mistakes show
// up at start-up rather than at the first notification.
//
// rawURL is "smtp://user:pass@host:port" for STARTTLS, which is mandatory
// unless the host is a loopback address (there it is opportunistic, so local
// relays and tests work), or "smtps://user:pass@host:port" for implicit TLS.
// The default ports are 587 and 465. User name and password are optional:
// without them no AUTH is attempted; with them the first of SCRAM-SHA-256,
// SCRAM-SHA-1, PLAIN and LOGIN that the server offers is used. Special
// characters in them must be percent-encoded. from is the From address, e.g.
// "Referti <referti@example.it>". Errors are plain English and never repeat
// the password.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the whole URL, password included; keep the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("notify: SMTP URL is not valid: %w", err)
	}
	s := &SMTP{host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.implicitTLS = 465, true
	default:
		return nil, fmt.Errorf("notify: SMTP URL scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if s.host == "" {
		return nil, errors.New("notify: SMTP URL has no host, expected smtp://user:pass@host:port")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("notify: SMTP URL port %q is not a number between 1 and 65535", p)
		}
		s.port = n
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		// Refuse what we would silently ignore, so typos are noticed.
		return nil, errors.New("notify: SMTP URL must not have a path, query or fragment")
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		if s.user == "" || s.pass == "" {
			return nil, errors.New("notify: SMTP URL must give both user name and password, or neither")
		}
	}
	s.loopback = isLoopback(s.host)
	s.tlsPolicy = mail.TLSMandatory
	if s.loopback {
		// Traffic to a relay on this machine never crosses a network, and
		// local relays rarely have a certificate, so STARTTLS is used only
		// when offered.
		s.tlsPolicy = mail.TLSOpportunistic
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("notify: From %q is not a valid email address: %w", from, err)
	}
	s.from = addr
	return s, nil
}

// isLoopback reports whether host names this machine without asking DNS,
// which an attacker might influence.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers m as a UTF-8 plain-text email with From, To, Subject, Date
// and Message-ID.
//
// The context bounds the whole conversation, not just the dial: cancelling it
// closes the connection. The message counts as sent once the server accepts
// the DATA; a failing QUIT afterwards is ignored so that a retry does not
// deliver it twice. Errors never contain the body, the password or the
// recipient.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if m.To == "" {
		return errNoRecipient
	}
	secrets := []string{m.To, m.Body, s.pass}
	timeout := smtpTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if ctx.Err() != nil || timeout <= 0 {
		return fmt.Errorf("notify: email not sent: %w", cmp.Or(context.Cause(ctx), context.DeadlineExceeded))
	}

	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(s.from.String()); err != nil {
		return redact("notify: setting From", err, secrets...)
	}
	if err := msg.To(m.To); err != nil {
		return redact("notify: recipient is not a valid email address", err, secrets...)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(s.messageID())
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	for _, a := range m.Attachments {
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), mail.WithFileContentType(mail.ContentType(a.ContentType))); err != nil {
			return redact("notify: attaching a file", err, secrets...)
		}
	}

	var (
		conn net.Conn
		stop func() bool
	)
	defer func() {
		// go-mail leaves the socket open when the handshake fails after
		// connecting (e.g. no STARTTLS), so close it here in every case.
		if conn != nil {
			stop()
			_ = conn.Close()
		}
	}()
	// Our own dialer gives us the socket (see below) and joins IPv6 hosts
	// correctly, which go-mail's "host:port" formatting does not.
	dial := func(dctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(dctx, network, net.JoinHostPort(s.host, strconv.Itoa(s.port)))
		if err != nil {
			return nil, err
		}
		conn = c
		// go-mail holds a lock while it waits for a reply, so closing the
		// socket is the only way to interrupt it when ctx ends.
		stop = context.AfterFunc(ctx, func() { _ = c.Close() })
		if !s.implicitTLS {
			return c, nil
		}
		tc := tls.Client(c, s.tlsConfig())
		if err := tc.HandshakeContext(dctx); err != nil {
			return nil, err
		}
		return tc, nil
	}

	opts := []mail.Option{
		mail.WithPort(s.port),
		mail.WithTimeout(timeout),
		mail.WithTLSPolicy(s.tlsPolicy),
		mail.WithTLSConfig(s.tlsConfig()),
		mail.WithDialContextFunc(dial),
	}
	if s.implicitTLS {
		opts = append(opts, mail.WithSSL())
	}
	if s.user != "" {
		opts = append(opts, mail.WithUsername(s.user), mail.WithPassword(s.pass),
			mail.WithOpportunisticSMTPAuth(s.authMechanisms()...))
	}
	client, err := mail.NewClient(s.host, opts...)
	if err != nil {
		return redact("notify: configuring SMTP client", err, secrets...)
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return s.sendErr(ctx, "connecting to SMTP server", err, secrets)
	}
	if err := client.SendWithSMTPClient(sc, msg); err != nil {
		_ = sc.Close()
		return s.sendErr(ctx, "sending email through SMTP server", err, secrets)
	}
	_ = client.CloseWithSMTPClient(sc)
	return nil
}

// sendErr names the failed step and, when ctx ended, reports that instead of
// the "use of closed network connection" or "i/o timeout" it caused: the
// socket deadline equals the ctx deadline and may fire a moment before ctx's
// own timer does.
func (s *SMTP) sendErr(ctx context.Context, step string, err error, secrets []string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("notify: %s %s: %w", step, s.host, context.Cause(ctx))
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return fmt.Errorf("notify: %s %s: %w", step, s.host, context.DeadlineExceeded)
	}
	return redact(fmt.Sprintf("notify: %s %s", step, s.host), err, secrets...)
}

// tlsConfig verifies the server's certificate against its host name, with
// the same minimum version go-mail uses by default.
func (s *SMTP) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
}

// authMechanisms lists the SASL mechanisms to try, strongest first. go-mail
// does not know we did the TLS handshake ourselves for smtps, so rather than
// its auto-discovery (which would then refuse PLAIN) we state the choice:
// over TLS the plain variants, which go-mail still refuses to use on a
// non-TLS link; on loopback the -NOENC variants, because a local relay is
// trusted whether or not it offers STARTTLS.
func (s *SMTP) authMechanisms() []mail.SMTPAuthType {
	if s.loopback && !s.implicitTLS {
		return []mail.SMTPAuthType{mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1,
			mail.SMTPAuthPlainNoEnc, mail.SMTPAuthLoginNoEnc}
	}
	return []mail.SMTPAuthType{mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1,
		mail.SMTPAuthPlain, mail.SMTPAuthLogin}
}

// messageID is random and uses the From domain rather than this machine's
// host name, which in a container is a meaningless id and would leak
// internal names to recipients.
func (s *SMTP) messageID() string {
	domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	return rand.Text() + "@" + domain
}
