package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/demo"
	"fse/internal/sealbox"
)

// purgePerVisit and purgeVisitsPerPatient shape the expired history: many
// patients, each with a few visits of several reports.
const (
	purgePerVisit         = 10
	purgeVisitsPerPatient = 10
)

// seedPurge makes purge-seed.db: a copy of the main database with the
// expired reports added.
func (s *seeder) seedPurge(ctx context.Context) error {
	removeDB(s.w.purgeSeed())
	s.have.Purge, s.have.PurgeSize = 0, 0
	if err := s.saveParams(); err != nil {
		return err
	}
	t := time.Now()
	if err := copyFile(s.w.main(), s.w.purgeSeed()); err != nil {
		return err
	}
	if err := s.fillPurge(ctx); err != nil {
		return err
	}
	s.took["purge"] = time.Since(t)
	st, err := os.Stat(s.w.purgeSeed())
	if err != nil {
		return err
	}
	s.log("seeded purge-seed.db: %d expired reports of %s in %s (%.0f reports/s, %d workers); file %s",
		s.want.Purge, sizeString(int64(s.want.PurgeSize)), s.took["purge"].Round(time.Millisecond),
		float64(s.want.Purge)/s.took["purge"].Seconds(), s.workers, sizeString(st.Size()))
	s.have.Purge, s.have.PurgeSize = s.want.Purge, s.want.PurgeSize
	return s.saveParams()
}

// fillPurge adds the expired reports: published three days ago with a
// one-day retention, so the expire job finds every one of them due.
// Workers share the store's single writer; what runs in parallel is
// sealing and the Go side of each query.
func (s *seeder) fillPurge(ctx context.Context) error {
	d, err := s.open(ctx, s.w.purgeSeed())
	if err != nil {
		return err
	}
	defer d.Close()
	facility, err := d.FacilityByCode(ctx, "MN")
	if err != nil {
		return err
	}
	staff, err := d.StaffByUsername(ctx, deskUser)
	if err != nil {
		return err
	}
	desk := db.Actor{Kind: db.ActorStaff, ID: staff.ID, Name: deskUser}
	pdf, err := benchPDF("Referto scaduto", s.want.PurgeSize)
	if err != nil {
		return err
	}
	visits := (s.want.Purge + purgePerVisit - 1) / purgePerVisit
	published := time.Now().Add(-3 * 24 * time.Hour)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	workers := max(s.workers, 1)
	errc := make(chan error, workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	progress := max(visits/10, 1)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				v := int(next.Add(1) - 1)
				if v >= visits || ctx.Err() != nil {
					return
				}
				n := min(purgePerVisit, s.want.Purge-v*purgePerVisit)
				if err := s.seedExpiredVisit(ctx, d, facility.ID, desk, v, n, pdf, published); err != nil {
					errc <- fmt.Errorf("expired visit %d: %w", v, err)
					cancel()
					return
				}
				if k := done.Add(1); k%int64(progress) == 0 {
					s.log("  purge seed: %d/%d visits", k, visits)
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// seedExpiredVisit accepts the v-th expired visit and stores and publishes
// its n reports.
func (s *seeder) seedExpiredVisit(ctx context.Context, d *db.DB, facility int64, desk db.Actor, v, n int, pdf []byte, published time.Time) error {
	i := v / purgeVisitsPerPatient
	p := person{surname: "Verdi", name: "Giulia", birth: time.Date(1930, time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i),
		sex: "F", mobile: "+393331112233"}
	pat, err := p.patient()
	if err != nil {
		return err
	}
	at := published.Add(-24 * time.Hour)
	mac := s.keys.MAC(sealbox.ActivationCode, actcode.Normalize(actcode.New()))
	visit, err := d.Accept(ctx, db.Acceptance{Patient: pat, FacilityID: facility, Exams: []string{"Esami del sangue"}, CodeMAC: mac}, desk, at)
	if err != nil {
		return err
	}
	for k := range n {
		if _, err := d.StoreDocument(ctx, visit.ID, fmt.Sprintf("Esame %d", k+1), bytes.NewReader(pdf), desk, at); err != nil {
			return err
		}
	}
	_, err = d.PublishVisit(ctx, visit.ID, 24*time.Hour, db.Notice{}, desk, published)
	return err
}

// benchPDF is a valid PDF of at most size bytes (and within 57 bytes of
// it): a real report padded with a comment block after the header line,
// as handlers/bench_test.go does, so the server's PDF check accepts it.
func benchPDF(title string, size int) ([]byte, error) {
	pdf, err := demo.ReportPDF(title, "Rossi Mario", "RSSMRA58C15E897X", "MN-2026-00001", []string{"Esame"})
	if err != nil {
		return nil, err
	}
	const line = "% fse benchmark padding line ...........................\n"
	pad := bytes.Repeat([]byte(line), max(size-len(pdf), 0)/len(line))
	i := bytes.IndexByte(pdf, '\n') + 1
	return append(append(append(make([]byte, 0, size), pdf[:i]...), pad...), pdf[i:]...), nil
}

// copyFile copies a closed database file; its WAL was checkpointed away
// when the last connection closed, and a leftover one is an error.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if st, err := os.Stat(src + "-wal"); err == nil && st.Size() > 0 {
		return fmt.Errorf("copy %s: it still has a WAL file (is a server running on it?)", src)
	}
	removeDB(dst)
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	// Written to disk now: the kernel writing back a gigabyte of dirty
	// pages later would stall the server during the idle measurement.
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}

// removeDB deletes a database file with its WAL and shared-memory files.
func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
