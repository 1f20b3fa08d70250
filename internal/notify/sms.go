package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// defaultSMSClient bounds every gateway call when the caller gives no client,
// so a hung gateway cannot stall the outbox worker forever.
var defaultSMSClient = &http.Client{Timeout: 15 * time.Second}

// SMSGateway posts {"to": "+39...", "text": "..."} as JSON to URL.
//
// It is deliberately generic: most Italian SMS providers, or a small relay in
// front of them, accept a JSON POST with a bearer token.
type SMSGateway struct {
	URL        string
	AuthHeader string       // optional, "Name: value" e.g. "Authorization: Bearer xyz"; sent as that header
	Client     *http.Client // nil = a client with a 15 s timeout
}

// smsPayload is the wire format; the field names are the gateway contract.
type smsPayload struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

// Send posts m to the gateway and treats any 2xx status as delivered.
//
// Errors carry the HTTP status code only: gateway responses often echo the
// recipient or the text, and the URL may hold an API key in its query or
// userinfo, so neither is ever put into an error.
func (g *SMSGateway) Send(ctx context.Context, m Message) error {
	if m.To == "" {
		return errNoRecipient
	}
	if len(m.Attachments) > 0 {
		return errors.New("notify: an SMS cannot carry an attachment")
	}
	u, err := url.Parse(g.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// url.Parse errors quote the whole URL, secrets included.
		return errors.New("notify: SMS gateway URL must be an absolute http or https URL")
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	// Codes and texts go out byte for byte; "<" as \u003c would confuse
	// gateways that do not fully decode JSON.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(smsPayload{To: m.To, Text: m.Body}); err != nil {
		return fmt.Errorf("notify: encoding SMS request: %w", err)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), &body)
	if err != nil {
		return fmt.Errorf("notify: building SMS request to %s failed", safeURL(u))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if g.AuthHeader != "" {
		name, value, err := ParseAuthHeader(g.AuthHeader)
		if err != nil {
			return err
		}
		req.Header.Set(name, value)
	}

	client := g.Client
	if client == nil {
		client = defaultSMSClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error repeats the full URL; keep only its cause, which still
		// matches context.DeadlineExceeded and friends with errors.Is.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("notify: SMS gateway %s: %w", safeURL(u), err)
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused; the content is ignored.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("notify: SMS gateway %s answered HTTP status %d", safeURL(u), resp.StatusCode)
	}
	return nil
}

// safeURL is the gateway's scheme and host only: enough to tell gateways
// apart in a log, while userinfo, query and even the path (some providers put
// the API key there) may hold secrets.
func safeURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// ParseAuthHeader validates "Name: value" and returns its parts, trimmed.
//
// It exists so a misconfigured header is caught at start-up, and so that a
// value containing CR or LF can never smuggle extra headers into a request.
// Errors never repeat the value, because it is usually a secret.
func ParseAuthHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", errors.New(`notify: auth header must look like "Name: value"`)
	}
	name = strings.TrimSpace(name)
	value = strings.TrimSpace(value)
	if name == "" || !isToken(name) {
		return "", "", errors.New("notify: auth header name is empty or has characters not allowed in an HTTP header name")
	}
	if value == "" {
		return "", "", fmt.Errorf("notify: auth header %s has an empty value", name)
	}
	for _, r := range value {
		if (r < 0x20 && r != '\t') || r == 0x7f {
			return "", "", fmt.Errorf("notify: auth header %s value contains a control character (CR, LF or similar)", name)
		}
	}
	return name, value, nil
}

// isToken reports whether s is an RFC 9110 token, the only thing allowed as a
// header field name.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
