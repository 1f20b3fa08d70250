package jobs_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"fse/db"
	"fse/internal/testkit"
	"fse/jobs"
)

var t0 = testkit.T0

const retention = 45 * 24 * time.Hour

func mac(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// world is a database with a facility and a receptionist.
type world struct {
	d        *db.DB
	facility int64
	desk     db.Actor
	n        int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	d := testkit.OpenDB(t)
	cli := db.Actor{Kind: "cli", Name: "jobs test"}
	fid, err := d.CreateFacility(ctx, db.Facility{Code: "MN", Name: "Mantova"}, cli, t0)
	if err != nil {
		t.Fatal(err)
	}
	sid, err := d.CreateStaff(ctx, db.Staff{Username: "sportello", Role: db.RoleReception, PasswordHash: "x"}, cli, t0)
	if err != nil {
		t.Fatal(err)
	}
	d.SetSealer(testkit.Keys(t))
	return &world{d: d, facility: fid, desk: db.Actor{Kind: "staff", ID: sid, Name: "sportello"}}
}

// visit accepts a new patient at now and returns the visit and its code's MAC.
func (w *world) visit(t *testing.T, now time.Time) (db.Visit, []byte) {
	t.Helper()
	w.n++
	code := mac(t)
	v, err := w.d.Accept(context.Background(), db.Acceptance{
		Patient: db.Patient{FiscalCode: "VRDGLI78E54E897" + string(rune('A'+w.n)), FirstName: "Giulia", LastName: "Verdi",
			BirthDate: time.Date(1978, 5, 14, 0, 0, 0, 0, time.UTC), BirthPlace: "Mantova", Sex: "F", Mobile: "+393331112233"},
		FacilityID: w.facility, Exams: []string{"Emocromo"}, CodeMAC: code,
	}, w.desk, now)
	if err != nil {
		t.Fatal(err)
	}
	return v, code
}

// document stores a complete document of size bytes (several chunks) in the visit.
func (w *world) document(t *testing.T, visitID int64, size int, now time.Time, complete bool) int64 {
	t.Helper()
	ctx := context.Background()
	dr, err := w.d.WriteDraft(ctx, visitID, "referto", bytes.NewReader(bytes.Repeat([]byte{0xA5}, size)), w.desk, now)
	if err != nil {
		t.Fatal(err)
	}
	if complete {
		if err := w.d.CompleteDrafts(ctx, []db.Draft{dr}, w.desk, now); err != nil {
			t.Fatal(err)
		}
	}
	return dr.ID
}

func (w *world) publish(t *testing.T, visitID int64, now time.Time) {
	t.Helper()
	if n, err := w.d.PublishVisit(context.Background(), visitID, retention, db.Notice{}, w.desk, now); err != nil || n == 0 {
		t.Fatalf("PublishVisit = %d, %v; want some published", n, err)
	}
}

func (w *world) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	return testkit.Count(t, w.d, query, args...)
}

func TestExpireRunOnce(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	sessions := &db.SessionStore{DB: w.d, Now: func() time.Time { return t0 }}

	// An old visit whose report was published long ago: expires at t0+1d+45d.
	oldVisit, oldCode := w.visit(t, t0)
	oldDoc := w.document(t, oldVisit.ID, 2*db.ChunkSize+10, t0, true)
	w.publish(t, oldVisit.ID, t0.Add(24*time.Hour))

	now := t0.Add(24*time.Hour + retention + time.Hour)

	// A recent visit whose report is still online at now.
	newVisit, newCode := w.visit(t, now.Add(-48*time.Hour))
	newDoc := w.document(t, newVisit.ID, db.ChunkSize+1, now.Add(-47*time.Hour), true)
	w.publish(t, newVisit.ID, now.Add(-46*time.Hour))

	// An upload abandoned two hours ago, and one still in progress.
	abandoned := w.document(t, newVisit.ID, 100, now.Add(-2*time.Hour), false)
	inProgress := w.document(t, newVisit.ID, 100, now.Add(-time.Minute), false)

	if err := sessions.CommitCtx(ctx, "old-token", []byte("old"), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := sessions.CommitCtx(ctx, "live-token", []byte("live"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	job := jobs.Expire{DB: w.d, Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := job.RunOnce(ctx); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}

	checks := []struct {
		name  string
		query string
		arg   any
		want  int
	}{
		{"expired document row", `SELECT count(*) FROM documents WHERE id = ?`, oldDoc, 0},
		{"expired document chunks", `SELECT count(*) FROM document_chunks WHERE document_id = ?`, oldDoc, 0},
		{"live document row", `SELECT count(*) FROM documents WHERE id = ?`, newDoc, 1},
		{"live document chunks", `SELECT count(*) FROM document_chunks WHERE document_id = ?`, newDoc, 2},
		{"abandoned draft", `SELECT count(*) FROM documents WHERE id = ?`, abandoned, 0},
		{"abandoned draft chunks", `SELECT count(*) FROM document_chunks WHERE document_id = ?`, abandoned, 0},
		{"draft in progress", `SELECT count(*) FROM documents WHERE id = ?`, inProgress, 1},
		{"expired code", `SELECT count(*) FROM activation_codes WHERE code_mac = ?`, oldCode, 0},
		{"live code", `SELECT count(*) FROM activation_codes WHERE code_mac = ?`, newCode, 1},
		{"audited expiry", `SELECT count(*) FROM audit_events WHERE action = 'report.expire' AND object_id = ?`, oldDoc, 1},
	}
	for _, c := range checks {
		if got := w.count(t, c.query, c.arg); got != c.want {
			t.Errorf("%s: count = %d, want %d", c.name, got, c.want)
		}
	}
	if _, ok, err := sessions.FindCtx(ctx, "live-token"); err != nil || !ok {
		t.Errorf("live session: found = %v, %v; want found", ok, err)
	}
	if got := w.count(t, `SELECT count(*) FROM sessions`); got != 1 {
		t.Errorf("sessions left = %d, want 1 (the expired one deleted)", got)
	}
	for _, want := range []string{"documents=1", "drafts=1", "codes=1", "sessions=1"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q lacks %q", logs.String(), want)
		}
	}

	// The deletions are handed to the checkpointer, which truncates the WAL.
	ckCtx, stop := context.WithCancel(ctx)
	ckDone := make(chan struct{})
	go func() {
		w.d.RunCheckpointer(ckCtx, 10*time.Millisecond, nil, slog.New(slog.DiscardHandler))
		close(ckDone)
	}()
	var walPages int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var busy, checkpointed int
		if err := testkit.Raw(t, w.d).QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &walPages, &checkpointed); err != nil {
			t.Fatal(err)
		}
		if walPages == 0 || time.Now().After(deadline) {
			break
		}
	}
	stop()
	<-ckDone
	if walPages != 0 {
		t.Errorf("WAL holds %d pages after RunOnce, want 0 (truncated by the checkpointer on the job's note)", walPages)
	}

	// Idempotent: a second run finds nothing more to delete.
	logs.Reset()
	if err := job.RunOnce(ctx); err != nil {
		t.Fatalf("second RunOnce: %v", err)
	}
	if got := w.count(t, `SELECT count(*) FROM documents`); got != 2 {
		t.Errorf("documents after second run = %d, want 2", got)
	}
	for _, want := range []string{"documents=0", "drafts=0", "codes=0", "sessions=0"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("second run log %q lacks %q", logs.String(), want)
		}
	}

	// The live report and its code are removed once their own time is up.
	later := now.Add(retention)
	job.Now = func() time.Time { return later }
	if err := job.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.count(t, `SELECT count(*) FROM documents WHERE id = ?`, newDoc); got != 0 {
		t.Errorf("report still present %v after its expiry", later.Sub(now))
	}
	if got := w.count(t, `SELECT count(*) FROM activation_codes WHERE code_mac = ?`, newCode); got != 0 {
		t.Error("code still present after its report expired")
	}
}

func TestExpireKeepsUnpublished(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	v, code := w.visit(t, t0)
	doc := w.document(t, v.ID, 10, t0, true) // complete, never published: no expires_at
	job := jobs.Expire{DB: w.d, Now: func() time.Time { return t0.Add(30 * 24 * time.Hour) }, Log: slog.New(slog.DiscardHandler)}
	if err := job.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.count(t, `SELECT count(*) FROM documents WHERE id = ?`, doc); got != 1 {
		t.Error("an unpublished complete report was deleted, want it kept for the desk")
	}
	// The code lives 90 days when nothing is published.
	if got := w.count(t, `SELECT count(*) FROM activation_codes WHERE code_mac = ?`, code); got != 1 {
		t.Error("the activation code was deleted before its 90 days")
	}
	job.Now = func() time.Time { return t0.Add(db.ActivationCodeLifetime + time.Second) }
	if err := job.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.count(t, `SELECT count(*) FROM activation_codes WHERE code_mac = ?`, code); got != 0 {
		t.Error("the activation code survived its 90 days")
	}
}

func TestFind(t *testing.T) {
	all := jobs.All(nil, time.Now, slog.New(slog.DiscardHandler), jobs.Senders{})
	for _, name := range []string{"expire", "optimize"} {
		job, err := jobs.Find(all, name)
		if err != nil || job == nil {
			t.Errorf("Find(%q) = %v, %v; want a job", name, job, err)
		}
	}
	if job, _ := jobs.Find(all, "expire"); job != nil {
		if _, ok := job.(jobs.Expire); !ok {
			t.Errorf("Find(expire) = %T, want jobs.Expire", job)
		}
	}
	_, err := jobs.Find(all, "x")
	if err == nil {
		t.Fatal("Find(x) succeeded, want an error")
	}
	for _, want := range []string{`"x"`, "expire", "optimize"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Find(x) error %q does not mention %s", err, want)
		}
	}
}

func TestOptimizeRunOnce(t *testing.T) {
	d := testkit.OpenDB(t)
	job, err := jobs.Find(jobs.All(d, time.Now, slog.New(slog.DiscardHandler), jobs.Senders{}), "optimize")
	if err != nil {
		t.Fatal(err)
	}
	if err := job.RunOnce(context.Background()); err != nil {
		t.Errorf("optimize: %v", err)
	}
}

func TestStart(t *testing.T) {
	d := testkit.OpenDB(t)
	log := slog.New(slog.DiscardHandler)
	all := jobs.All(d, time.Now, log, jobs.Senders{})
	s, err := jobs.Start(context.Background(), all, log)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if got, want := len(s.Entries()), len(all); got != want {
		t.Errorf("cron entries = %d, want %d", got, want)
	}
	nightly := 0
	for _, e := range s.Entries() {
		if e.Next.IsZero() {
			t.Errorf("entry %d has no next run", e.ID)
		}
		// The optimize job runs at 03:30 in Rome, whatever the host's zone.
		if r := e.Next.In(db.Rome); r.Hour() == 3 && r.Minute() == 30 {
			nightly++
		}
	}
	if nightly != 1 {
		t.Errorf("%d entries at 03:30 Rome time, want the optimize job", nightly)
	}
	stopWithin(t, s, 5*time.Second)
}

func stopWithin(t *testing.T, s *jobs.Scheduler, limit time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { s.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("scheduler did not stop within %v", limit)
	}
}

// blockingJob runs until its context is cancelled, like a delivery run
// over a large backlog.
type blockingJob struct{ started chan struct{} }

func (j blockingJob) RunOnce(ctx context.Context) error {
	close(j.started)
	<-ctx.Done()
	return ctx.Err()
}

func TestStopCancelsRunningJobs(t *testing.T) {
	job := blockingJob{started: make(chan struct{})}
	s, err := jobs.Start(context.Background(), []jobs.Scheduled{{Name: "lungo", Spec: "@every 1s", Job: job}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-job.started:
	case <-time.After(5 * time.Second):
		t.Fatal("job did not start within 5s")
	}
	stopWithin(t, s, 2*time.Second)
}

func TestStartRejectsBadSpec(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	_, err := jobs.Start(context.Background(), []jobs.Scheduled{{Name: "rotto", Spec: "not a spec", Job: jobs.Optimize{}}}, log)
	if err == nil || !strings.Contains(err.Error(), "rotto") {
		t.Errorf("Start with a bad spec: err = %v, want an error naming the job", err)
	}
}

// errJob fails; Start must log it, not crash.
type errJob struct {
	once *sync.Once
	ran  chan struct{}
}

func (j errJob) RunOnce(context.Context) error {
	j.once.Do(func() { close(j.ran) })
	return errors.New("boom")
}

func TestStartRunsJobsAndLogsFailures(t *testing.T) {
	var logs testkit.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ran := make(chan struct{})
	c, err := jobs.Start(context.Background(), []jobs.Scheduled{{Name: "fallisce", Spec: "@every 1s", Job: errJob{&sync.Once{}, ran}}}, log)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("job did not run within 5s")
	}
	c.Stop()
	if got := logs.String(); !strings.Contains(got, "job failed") || !strings.Contains(got, "fallisce") || !strings.Contains(got, "boom") {
		t.Errorf("log = %q, want the failure with job name and error", got)
	}
}
