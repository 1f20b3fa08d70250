package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The load generator speaks HTTP/1.1 over plain keep-alive connections
// with requests serialised once, so that on its one core it keeps ahead
// of the servers it measures (net/http's client, with its transport
// goroutines and cookie jar, costs more per request). Responses are
// parsed with net/http's own reader.

// rawRequest serialises a request; headers are name/value pairs.
func rawRequest(method, path, host string, headers [][2]string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: fse-bench\r\n", method, path, host)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	if body != nil || method == "POST" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// rawConn is one keep-alive connection.
type rawConn struct {
	c    net.Conn
	br   *bufio.Reader
	buf  []byte
	dead bool
}

func newRawConn(c net.Conn) *rawConn {
	return &rawConn{c: c, br: bufio.NewReaderSize(c, 64<<10), buf: make([]byte, 256<<10)}
}

func (rc *rawConn) close() { rc.dead = true; rc.c.Close() }

// response is what the generator keeps of a response.
type response struct {
	status  int
	n       int64 // body bytes read
	length  int64 // Content-Length, -1 if none
	header  http.Header
	cookies []*http.Cookie
}

// requestTimeout bounds every request, so a server that hangs fails the
// section instead of hanging the run.
const requestTimeout = 3 * time.Minute

// roundTrip sends req and reads the whole response, copying the body to
// sink (discarded when nil).
func (rc *rawConn) roundTrip(req []byte, sink io.Writer) (response, error) {
	if err := rc.c.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		rc.close()
		return response{}, err
	}
	if _, err := rc.c.Write(req); err != nil {
		rc.close()
		return response{}, err
	}
	res, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		rc.close()
		return response{}, err
	}
	if sink == nil {
		sink = countWriter{}
	}
	n, err := io.CopyBuffer(struct{ io.Writer }{sink}, res.Body, rc.buf)
	res.Body.Close()
	if err != nil {
		rc.close()
		return response{}, err
	}
	if res.Close {
		rc.close()
	}
	return response{status: res.StatusCode, n: n, length: res.ContentLength, header: res.Header, cookies: res.Cookies()}, nil
}

// countWriter discards; wrapped in a struct so io.CopyBuffer uses our
// large buffer instead of io.Discard's small one.
type countWriter struct{}

func (countWriter) Write(p []byte) (int, error) { return len(p), nil }

// client is a browser-like sequence of requests on one connection, with
// its own cookie handling: Go's cookie jar never sends the Secure
// __Host- cookies over http.
type client struct {
	addr    string
	local   net.Addr // source address; nil for any
	cookies map[string]string
	rc      *rawConn
}

func newClient(addr string) *client { return &client{addr: addr, cookies: map[string]string{}} }

func (c *client) dial() (*rawConn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: c.local}
	conn, err := d.Dial("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	return newRawConn(conn), nil
}

// headers are those a same-origin browser request carries.
func (c *client) headers(extra ...[2]string) [][2]string {
	h := [][2]string{{"Sec-Fetch-Site", "same-origin"}}
	if len(c.cookies) > 0 {
		var parts []string
		for k, v := range c.cookies {
			parts = append(parts, k+"="+v)
		}
		slices.Sort(parts)
		h = append(h, [2]string{"Cookie", strings.Join(parts, "; ")})
	}
	return append(h, extra...)
}

// request builds a request carrying the client's cookies.
func (c *client) request(method, path string, body []byte, extra ...[2]string) []byte {
	return rawRequest(method, path, c.addr, c.headers(extra...), body)
}

// do sends one request and keeps the cookies the server sets.
func (c *client) do(req []byte, sink io.Writer) (response, error) {
	if c.rc == nil || c.rc.dead {
		rc, err := c.dial()
		if err != nil {
			return response{}, err
		}
		c.rc = rc
	}
	res, err := c.rc.roundTrip(req, sink)
	if err != nil {
		return res, err
	}
	for _, ck := range res.cookies {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return res, nil
}

// get fetches path and returns its body.
func (c *client) get(path string) (response, []byte, error) {
	var body bytes.Buffer
	res, err := c.do(c.request("GET", path, nil), &body)
	return res, body.Bytes(), err
}

// postForm sends an urlencoded form.
func (c *client) postForm(path string, form string) (response, []byte, error) {
	var body bytes.Buffer
	res, err := c.do(c.request("POST", path, []byte(form), [2]string{"Content-Type", "application/x-www-form-urlencoded"}), &body)
	return res, body.Bytes(), err
}

func (c *client) close() {
	if c.rc != nil {
		c.rc.close()
	}
}
