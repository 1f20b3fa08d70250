package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"time"
)

// The backup section is issue 13's measure: a patient deletes a report
// while `fse backup` copies the 1 GB database. It reports the dossier
// page's p99 meanwhile and how long the deleted report's bytes stayed in
// the files (the server's checkpointer logs it once the WAL is truncated).

// backupResult is the deletion during a backup.
type backupResult struct {
	idle, during loadStats
	backupTook   time.Duration
	deleteTook   time.Duration
	findable     time.Duration // -1: not erased by the end
	dbSize       int64
}

var erasedLog = regexp.MustCompile(`deleted data erased from the WAL.*after_ms=(\d+)`)

func (b *bench) runBackup(ctx context.Context) error {
	path := b.w.dir + "/backup-run.db"
	dest := b.w.dir + "/backup-copy.db"
	removeDB(path)
	os.Remove(dest)
	defer removeDB(path)
	defer os.Remove(dest)
	if err := copyFile(b.w.purgeSeed(), path); err != nil {
		return err
	}
	var r backupResult
	if st, err := os.Stat(path); err == nil {
		r.dbSize = st.Size()
	}
	// The server's log is appended to from run to run: read only this run's.
	var logFrom int64
	if st, err := os.Stat(b.w.dir + "/fse-backup.log"); err == nil {
		logFrom = st.Size()
	}
	s, err := b.fseServer("backup", path)
	if err != nil {
		return err
	}
	defer s.stop()
	c, err := loginPatient(s.addr, patientMobile)
	if err != nil {
		return err
	}
	defer c.close()
	reports, err := dossierReports(c)
	if err != nil {
		return err
	}
	var victim int64
	for _, id := range reports {
		victim = id
		break
	}
	p := b.dossierProbe(s, c)
	r.idle = b.idleProbe(p)

	stop := make(chan struct{})
	probed := make(chan loadStats, 1)
	go func() { probed <- p.run(stop) }()
	var out bytes.Buffer
	job := b.pin.command(b.fseBin, "backup", "--db", path, dest)
	job.Stdout, job.Stderr = &out, &out
	start := time.Now()
	if err := job.Start(); err != nil {
		close(stop)
		<-probed
		return err
	}
	done := make(chan error, 1)
	go func() { done <- job.Wait() }()
	// The deletion lands while the copy is under way, from another session
	// of the patient (its flash message is not the probe's to pop).
	time.Sleep(time.Second)
	deleter, err := loginPatient(s.addr, patientMobile)
	if err != nil {
		close(stop)
		<-probed
		<-done
		return err
	}
	t := time.Now()
	res, body, derr := deleter.postForm(fmt.Sprintf("/fascicolo/referti/%d/elimina", victim), "")
	r.deleteTook = time.Since(t)
	deleter.close()
	var jobErr error
	select {
	case jobErr = <-done:
	case <-time.After(30 * time.Minute):
		job.Process.Kill()
		jobErr = <-done
	}
	r.backupTook = time.Since(start)
	// The WAL is truncated once the backup's read transaction is over.
	time.Sleep(3 * time.Second)
	close(stop)
	r.during = <-probed
	if derr != nil || res.status != http.StatusSeeOther {
		return fmt.Errorf("delete report %d: %v, status %d: %s", victim, derr, res.status, snippet(body))
	}
	if jobErr != nil {
		return fmt.Errorf("fse backup: %w: %s", jobErr, snippet(out.Bytes()))
	}
	r.findable = -1
	if log, err := os.ReadFile(s.logPath); err == nil && int64(len(log)) >= logFrom {
		if m := erasedLog.FindSubmatch(log[logFrom:]); m != nil {
			ms, _ := strconv.Atoi(string(m[1]))
			r.findable = time.Duration(ms) * time.Millisecond
		}
	}
	b.logf("   fse backup of %s took %s; the patient's deletion answered in %s during it", sizeString(r.dbSize),
		r.backupTook.Round(time.Millisecond), ms(r.deleteTook))
	if r.findable >= 0 {
		b.logf("   the deleted report's bytes stayed in the WAL for %s (server log)", r.findable.Round(time.Millisecond))
	} else {
		b.logf("   WARNING: the server did not log the erasure of the deleted report")
	}
	b.logf("   dossier probe during the backup: %s", r.during)
	b.res.backup = &r
	return nil
}

// printBackup adds issue 13's line under the table.
func (r *backupResult) print(w interface{ Write([]byte) (int, error) }) {
	findable := "not erased by the end of the run"
	if r.findable >= 0 {
		findable = ms(r.findable)
	}
	fmt.Fprintf(w, "Issue 13, a report deleted during a %s backup of the %s database: the deletion answered in %s; "+
		"dossier p99 during the backup %s (idle %s); the deleted bytes stayed findable for %s.\n",
		r.backupTook.Round(100*time.Millisecond), sizeString(r.dbSize), ms(r.deleteTook), ms(r.during.pct(0.99)),
		ms(r.idle.pct(0.99)), findable)
}
