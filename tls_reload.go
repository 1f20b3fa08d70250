package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// certReloader serves the clinic's own certificate (--tls-cert,
// --tls-key) and takes a renewed one without a restart: on SIGHUP, or
// when either file changes (certbot and the like replace them in place).
// A pair that does not load (a key that does not match, a file half
// written) leaves the served certificate as it was.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	cert atomic.Pointer[tls.Certificate]
	// mu serialises reloads; seen is what the files looked like at the
	// last load, so a poll reloads only what changed.
	mu   sync.Mutex
	seen [2]fileStamp
}

// fileStamp is what tells a replaced file from the one loaded.
type fileStamp struct {
	size    int64
	modTime time.Time
}

func stampOf(path string) (fileStamp, error) {
	st, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{size: st.Size(), modTime: st.ModTime()}, nil
}

// newCertReloader loads the pair; a pair that does not load stops the
// server at start, where the mistake is seen at once.
func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// GetCertificate is tls.Config's: the certificate loaded last.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// reload loads the pair again, whatever the files look like.
func (r *certReloader) reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loadLocked()
}

// reloadIfChanged loads the pair again if either file changed since the
// last load, and says whether it did.
func (r *certReloader) reloadIfChanged() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, p := range []string{r.certFile, r.keyFile} {
		st, err := stampOf(p)
		if err != nil {
			return false, fmt.Errorf("TLS certificate: %w", err)
		}
		if st != r.seen[i] {
			return true, r.loadLocked()
		}
	}
	return false, nil
}

func (r *certReloader) loadLocked() error {
	var stamps [2]fileStamp
	for i, p := range []string{r.certFile, r.keyFile} {
		st, err := stampOf(p)
		if err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
		stamps[i] = st
	}
	pair, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s with key %s: %w", r.certFile, r.keyFile, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("TLS certificate %s: %w", r.certFile, err)
	}
	pair.Leaf = leaf
	r.cert.Store(&pair)
	r.seen = stamps
	r.log.Info("TLS certificate loaded", "file", r.certFile, "names", leaf.DNSNames, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	if time.Until(leaf.NotAfter) < 14*24*time.Hour {
		r.log.Warn("the TLS certificate expires within 14 days: renew it (fse takes the new files on SIGHUP or within a minute)",
			"not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// watch polls the files every interval until ctx ends, reloading a
// changed pair; a pair that does not load is logged and kept trying.
func (r *certReloader) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := r.reloadIfChanged(); err != nil {
				r.log.Error("the changed TLS certificate does not load: still serving the previous one", "err", err)
			}
		}
	}
}
