package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// tlsSettings says how fse serves HTTPS itself, without a reverse proxy:
// with certificates an ACME CA issues and renews (--tls-domain), or with
// the clinic's own (--tls-cert, --tls-key).
type tlsSettings struct {
	domains           []string
	acmeDirectory     string
	acmeEmail         string
	acmeCAFile        string
	certFile, keyFile string
	// httpAddr is the plain-HTTP listener beside HTTPS: redirects, and
	// ACME's HTTP-01 challenges. "off" turns it off.
	httpAddr string
	// reloadEvery is how often --tls-cert and --tls-key are looked at.
	reloadEvery time.Duration
}

func (t *tlsSettings) addFlags(fs *flag.FlagSet) {
	fs.Func("tls-domain", "serve HTTPS with certificates obtained and renewed by ACME (Let's Encrypt unless --acme-directory) "+
		"for these comma-separated domains, e.g. referti.example.it", func(v string) error {
		t.domains = nil
		for _, d := range strings.Split(v, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
				if !domainName.MatchString(d) {
					return fmt.Errorf("%q is not a domain name such as referti.example.it", d)
				}
				t.domains = append(t.domains, d)
			}
		}
		return nil
	})
	fs.StringVar(&t.acmeDirectory, "acme-directory", "", "ACME directory URL of another CA or a test CA (default Let's Encrypt's)")
	fs.StringVar(&t.acmeEmail, "acme-email", "", "contact address given to the ACME CA, for notices about the certificates")
	fs.StringVar(&t.acmeCAFile, "acme-ca-file", "", "PEM roots to trust for the ACME directory's own HTTPS (a private CA; default the system's)")
	fs.StringVar(&t.certFile, "tls-cert", "", "serve HTTPS with this certificate chain (PEM), reloaded on SIGHUP and when the file changes")
	fs.StringVar(&t.keyFile, "tls-key", "", "private key (PEM) of --tls-cert")
	fs.StringVar(&t.httpAddr, "http-addr", "", "with HTTPS, a plain-HTTP listener that redirects to --base-url and answers ACME HTTP-01 challenges "+
		"(default :80; off for none)")
}

// domainName is a DNS name with at least two labels; no wildcard, which
// HTTP-01 cannot prove.
var domainName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func (t tlsSettings) enabled() bool { return len(t.domains) > 0 || t.certFile != "" }

// settle checks the TLS flags against the rest of the configuration and
// fills the defaults that depend on them: --addr is :443 with HTTPS and
// :8080 without; --http-addr is :80 with HTTPS.
func (t *tlsSettings) settle(c *serverConfig) error {
	acmeOnly := t.acmeDirectory != "" || t.acmeEmail != "" || t.acmeCAFile != ""
	switch {
	case len(t.domains) > 0 && (t.certFile != "" || t.keyFile != ""):
		return usagef("--tls-domain and --tls-cert are two ways to get a certificate: choose one")
	case (t.certFile == "") != (t.keyFile == ""):
		return usagef("--tls-cert and --tls-key go together")
	case acmeOnly && len(t.domains) == 0:
		return usagef("--acme-directory, --acme-email and --acme-ca-file need --tls-domain")
	case t.httpAddr != "" && !t.enabled():
		return usagef("--http-addr is the redirect beside HTTPS: it needs --tls-domain or --tls-cert")
	case t.acmeEmail != "" && !strings.Contains(t.acmeEmail, "@"):
		return usagef("--acme-email must be an email address, got %q", t.acmeEmail)
	}
	if t.acmeDirectory != "" {
		if u, err := url.Parse(t.acmeDirectory); err != nil || u.Scheme != "https" || u.Host == "" {
			return usagef("--acme-directory must be an https:// URL, got %q", t.acmeDirectory)
		}
	}
	if c.addr == "" {
		c.addr = ":8080"
		if t.enabled() {
			c.addr = ":443"
		}
	}
	if !t.enabled() {
		return nil
	}
	if t.httpAddr == "" {
		t.httpAddr = ":80"
	}
	if t.httpAddr != "off" {
		if _, _, err := net.SplitHostPort(t.httpAddr); err != nil {
			return usagef("--http-addr must be host:port, :port or off, got %q", t.httpAddr)
		}
	}
	u, err := url.Parse(c.baseURL)
	if err != nil || u.Scheme != "https" {
		return usagef("with HTTPS, --base-url must be https://, got %q", c.baseURL)
	}
	if len(t.domains) > 0 && !slices.Contains(t.domains, strings.ToLower(u.Hostname())) {
		return usagef("--base-url's host %q must be one of --tls-domain %s: slips and notices print it", u.Hostname(), strings.Join(t.domains, ","))
	}
	if t.reloadEvery == 0 {
		t.reloadEvery = time.Minute
	}
	return nil
}

// acmeCacheDir is where ACME certificates and the account key are kept:
// beside the database, readable by fse alone.
func acmeCacheDir(dbPath string) string { return filepath.Join(filepath.Dir(dbPath), "acme") }

// frontDoor takes the portal's connections: plain HTTP, or HTTPS with a
// plain-HTTP listener beside it for redirects and ACME challenges. It also
// answers SIGHUP, reloading --tls-cert.
type frontDoor struct {
	tlsConf  *tls.Config // nil: plain HTTP
	acme     *autocert.Manager
	domains  []string
	redirect *http.Server
	log      *slog.Logger
	stop     context.CancelFunc
	done     chan struct{}
}

// openFrontDoor prepares the certificates and starts the redirect
// listener; serve then takes the portal's listener.
func openFrontDoor(c serverConfig, log *slog.Logger) (*frontDoor, error) {
	t := c.tls
	ctx, stop := context.WithCancel(context.Background())
	f := &frontDoor{log: log, stop: stop, done: make(chan struct{}), domains: t.domains}
	var reloader *certReloader
	var challenges func(http.Handler) http.Handler
	switch {
	case t.certFile != "":
		var err error
		if reloader, err = newCertReloader(t.certFile, t.keyFile, log); err != nil {
			stop()
			return nil, err
		}
		f.tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: reloader.GetCertificate}
	case len(t.domains) > 0:
		m, err := newACMEManager(t, c.dbPath)
		if err != nil {
			stop()
			return nil, err
		}
		f.acme = m
		f.tlsConf = m.TLSConfig()
		f.tlsConf.MinVersion = tls.VersionTLS12
		f.tlsConf.GetCertificate = f.logCertificateErrors(m.GetCertificate)
		challenges = m.HTTPHandler
	}
	if f.tlsConf != nil && t.httpAddr != "off" {
		var h http.Handler = redirectTo(c.baseURL)
		if challenges != nil {
			h = challenges(h)
		}
		ln, err := net.Listen("tcp", t.httpAddr)
		if err != nil {
			stop()
			return nil, fmt.Errorf("--http-addr: %w", err)
		}
		f.redirect = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		go func() {
			if err := f.redirect.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				log.Error("HTTP redirect listener stopped", "err", err)
			}
		}()
		log.Info("redirecting plain HTTP to HTTPS", "addr", ln.Addr().String(), "acme_http01", challenges != nil)
	}
	// Caught before the server is ready: from then on a SIGHUP must not
	// end it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go f.answerHangups(ctx, hup, reloader, t.reloadEvery)
	return f, nil
}

// newACMEManager builds the ACME client: the CA's terms accepted (as
// with certbot --agree-tos), certificates only for the listed domains,
// cached beside the database.
func newACMEManager(t tlsSettings, dbPath string) (*autocert.Manager, error) {
	dir := acmeCacheDir(dbPath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ACME cache: %w", err)
	}
	// It holds the account's and the certificates' private keys.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ACME cache: %w", err)
	}
	client := &acme.Client{DirectoryURL: t.acmeDirectory, UserAgent: "fse/" + currentBuild().Version}
	if client.DirectoryURL == "" {
		client.DirectoryURL = acme.LetsEncryptURL
	}
	if t.acmeCAFile != "" {
		pem, err := os.ReadFile(t.acmeCAFile)
		if err != nil {
			return nil, fmt.Errorf("--acme-ca-file: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--acme-ca-file %s holds no PEM certificate", t.acmeCAFile)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		client.HTTPClient = &http.Client{Transport: tr, Timeout: time.Minute}
	}
	allowed := autocert.HostWhitelist(t.domains...)
	return &autocert.Manager{
		Prompt: autocert.AcceptTOS,
		Cache:  autocert.DirCache(dir),
		// A challenge on another port than 80 (a CA told to use one)
		// arrives with the port in its Host.
		HostPolicy: func(ctx context.Context, host string) error {
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			return allowed(ctx, host)
		},
		Email:  t.acmeEmail,
		Client: client,
	}, nil
}

// logCertificateErrors logs why a handshake for one of our domains got
// no certificate (the CA unreachable, a challenge refused): the browser
// only shows an error. Other names (scanners) are not worth a line.
func (f *frontDoor) logCertificateErrors(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		cert, err := get(hello)
		if err != nil && slices.Contains(f.domains, strings.ToLower(hello.ServerName)) {
			f.log.Error("no TLS certificate for a domain of --tls-domain", "domain", hello.ServerName, "err", err)
		}
		return cert, err
	}
}

// serve takes the portal's connections on ln until srv shuts down.
func (f *frontDoor) serve(srv *http.Server, ln net.Listener) error {
	if f.tlsConf == nil {
		return srv.Serve(ln)
	}
	srv.TLSConfig = f.tlsConf
	// Handshakes that fail (scanners, old clients) are not worth a line.
	srv.ErrorLog = slog.NewLogLogger(f.log.Handler(), slog.LevelDebug)
	if f.acme != nil {
		go f.warm()
	}
	return srv.ServeTLS(ln, "", "")
}

// warm obtains the certificates at start, so the first patient does not
// wait for the CA, and a CA that refuses shows in the log at once.
func (f *frontDoor) warm() {
	for _, d := range f.domains {
		// A modern browser's hello: the ECDSA certificate browsers get.
		hello := &tls.ClientHelloInfo{ServerName: d, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256}, SupportedCurves: []tls.CurveID{tls.CurveP256}}
		cert, err := f.acme.GetCertificate(hello)
		if err != nil {
			f.log.Error("could not obtain a TLS certificate: is the domain's DNS pointing here, and ports 80 or 443 open?", "domain", d, "err", err)
			continue
		}
		if cert.Leaf != nil {
			f.log.Info("TLS certificate ready", "domain", d, "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
	}
}

// answerHangups reloads --tls-cert on SIGHUP (systemctl reload) and
// when its files change. SIGHUP is caught in every mode: its default
// would end the server.
func (f *frontDoor) answerHangups(ctx context.Context, hup chan os.Signal, r *certReloader, every time.Duration) {
	defer close(f.done)
	defer signal.Stop(hup)
	if r != nil {
		go r.watch(ctx, every)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if r == nil {
				f.log.Info("SIGHUP: nothing to reload (the certificate is reloaded only with --tls-cert)")
				continue
			}
			if err := r.reload(); err != nil {
				f.log.Error("SIGHUP: the TLS certificate does not load: still serving the previous one", "err", err)
			}
		}
	}
}

// close stops the redirect listener and the reloads.
func (f *frontDoor) close(ctx context.Context) {
	if f.redirect != nil {
		_ = f.redirect.Shutdown(ctx)
	}
	f.stop()
	<-f.done
}

// redirectTo sends plain-HTTP requests to the same path and query on
// baseURL: to its host, not the request's Host header, which a client
// chooses.
func redirectTo(baseURL string) http.Handler {
	base := strings.TrimRight(baseURL, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusPermanentRedirect // keeps the method and body
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			status = http.StatusMovedPermanently // understood by every browser
		}
		w.Header().Set("Connection", "close")
		http.Redirect(w, r, base+r.URL.RequestURI(), status)
	})
}
