package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"fse/db"
	"fse/internal/notify"
	"fse/internal/testkit"
	"fse/jobs"
)

// fakeSender records what it delivers. It fails the first FailFirst calls
// (or every call when FailAlways), echoing the recipient, subject and body in
// its error as careless gateways do, so the tests can check none of it
// reaches the log.
type fakeSender struct {
	mu         sync.Mutex
	FailFirst  int
	FailAlways bool
	// Hook, when set, runs before each send.
	Hook  func(m notify.Message)
	calls int
	sent  []notify.Message
}

func (f *fakeSender) Send(ctx context.Context, m notify.Message) error {
	if f.Hook != nil {
		f.Hook(m)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.FailAlways || f.calls <= f.FailFirst {
		return fmt.Errorf("gateway rejected <%s> %q: %s", m.To, m.Subject, m.Body)
	}
	f.sent = append(f.sent, m)
	return nil
}

func (f *fakeSender) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeSender) Sent() []notify.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]notify.Message(nil), f.sent...)
}

// outboxWorld is a database, two fake senders, a clock and a log buffer.
type outboxWorld struct {
	d     *db.DB
	sms   *fakeSender
	email *fakeSender
	clock *testkit.Clock
	log   *testkit.LogBuffer
	msgs  []db.OutboxMessage // everything queued, for the log check
}

func newOutboxWorld(t *testing.T) *outboxWorld {
	t.Helper()
	return &outboxWorld{d: testkit.OpenDB(t), sms: &fakeSender{}, email: &fakeSender{}, clock: testkit.NewClock(t0), log: &testkit.LogBuffer{}}
}

// job returns a Deliver wired to the world; tests adjust the fields.
func (w *outboxWorld) job() jobs.Deliver {
	return jobs.Deliver{
		DB: w.d, SMS: w.sms, Email: w.email, Now: w.clock.Now,
		Log: slog.New(slog.NewTextHandler(w.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func (w *outboxWorld) queue(t *testing.T, m db.OutboxMessage) {
	t.Helper()
	if err := w.d.Enqueue(context.Background(), m, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	w.msgs = append(w.msgs, m)
}

func (w *outboxWorld) run(t *testing.T, j jobs.Deliver) {
	t.Helper()
	if err := j.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
}

// all returns every message in the outbox, newest first (bodies blanked).
func (w *outboxWorld) all(t *testing.T) []db.OutboxMessage {
	t.Helper()
	ms, err := w.d.RecentOutbox(context.Background(), false, 500)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func (w *outboxWorld) stats(t *testing.T) db.OutboxStats {
	t.Helper()
	s, err := w.d.OutboxStats(context.Background(), w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertNoContentLogged checks the log never carries a recipient, subject or body.
func (w *outboxWorld) assertNoContentLogged(t *testing.T) {
	t.Helper()
	logged := w.log.String()
	for _, m := range w.msgs {
		for _, secret := range []string{m.Recipient, strings.TrimPrefix(m.Recipient, "+"), m.Subject, m.Body} {
			if secret != "" && strings.Contains(strings.ToLower(logged), strings.ToLower(secret)) {
				t.Errorf("log contains %q:\n%s", secret, logged)
			}
		}
	}
}

func smsTo(n int) db.OutboxMessage {
	return db.OutboxMessage{Channel: db.ChannelSMS, Recipient: fmt.Sprintf("+3933312345%02d", n),
		Body: fmt.Sprintf("FSE: referto n.%d disponibile, codice 48%02d17", n, n), Kind: "report_available"}
}

func emailTo(n int) db.OutboxMessage {
	return db.OutboxMessage{Channel: db.ChannelEmail, Recipient: fmt.Sprintf("Giulia.Verdi%d@Example.it", n),
		Subject: fmt.Sprintf("Esito ecografia %d", n), Body: fmt.Sprintf("Gentile Giulia, il referto %d di ecografia è pronto.", n),
		Kind: "report_available"}
}

func TestDeliverSendsQueuedMessages(t *testing.T) {
	w := newOutboxWorld(t)
	w.queue(t, smsTo(1))
	w.queue(t, emailTo(2))
	w.run(t, w.job())

	if got := w.sms.Sent(); len(got) != 1 || got[0].To != w.msgs[0].Recipient || got[0].Body != w.msgs[0].Body {
		t.Errorf("SMS sent = %+v, want the queued SMS", got)
	}
	if got := w.email.Sent(); len(got) != 1 || got[0].To != w.msgs[1].Recipient || got[0].Subject != w.msgs[1].Subject ||
		got[0].Body != w.msgs[1].Body {
		t.Errorf("email sent = %+v, want the queued email", got)
	}
	for _, m := range w.all(t) {
		if !m.SentAt.Equal(t0) || m.Attempts != 0 || !m.FailedAt.IsZero() {
			t.Errorf("message %d = %+v, want sent at %v", m.ID, m, t0)
		}
	}
	if s := w.stats(t); s.Queued != 0 || s.SentLast24h != 2 {
		t.Errorf("stats = %+v, want nothing queued, 2 sent", s)
	}
	if !strings.Contains(w.log.String(), "sent=2") {
		t.Errorf("log lacks the sent count:\n%s", w.log)
	}

	// Nothing is sent twice.
	w.clock.Set(t0.Add(time.Hour))
	w.run(t, w.job())
	if w.sms.Calls() != 1 || w.email.Calls() != 1 {
		t.Errorf("second run sent again: sms %d, email %d calls", w.sms.Calls(), w.email.Calls())
	}
	w.assertNoContentLogged(t)
}

func TestDeliverRetriesAfterBackoff(t *testing.T) {
	w := newOutboxWorld(t)
	w.sms.FailFirst = 1
	w.queue(t, smsTo(1))
	j := w.job()

	w.run(t, j) // attempt 1 fails
	ms := w.all(t)
	if len(ms) != 1 || ms[0].Attempts != 1 || !ms[0].SentAt.IsZero() || !ms[0].FailedAt.IsZero() ||
		!ms[0].NextAttemptAt.Equal(t0.Add(jobs.Backoff(1))) || ms[0].LastError == "" {
		t.Fatalf("after a failed attempt: %+v, want attempts 1, due at +1m", ms)
	}
	if strings.Contains(ms[0].LastError, w.msgs[0].Recipient) || strings.Contains(ms[0].LastError, w.msgs[0].Body) {
		t.Errorf("last_error keeps the recipient or body: %q", ms[0].LastError)
	}

	w.clock.Set(t0.Add(30 * time.Second))
	w.run(t, j)
	if n := w.sms.Calls(); n != 1 {
		t.Fatalf("retried before the backoff: %d calls", n)
	}

	w.clock.Set(t0.Add(61 * time.Second))
	w.run(t, j)
	if n := w.sms.Calls(); n != 2 || len(w.sms.Sent()) != 1 {
		t.Fatalf("after the backoff: %d calls, %d sent; want the retry to succeed", n, len(w.sms.Sent()))
	}
	if ms := w.all(t); !ms[0].SentAt.Equal(t0.Add(61*time.Second)) || ms[0].Attempts != 1 {
		t.Errorf("after retry: %+v, want sent with attempts 1", ms[0])
	}
	w.assertNoContentLogged(t)
}

func TestDeliverGivesUpAfterMaxAttempts(t *testing.T) {
	w := newOutboxWorld(t)
	w.sms.FailAlways = true
	w.queue(t, smsTo(1))
	j := w.job()
	j.MaxAttempts = 3

	now := t0
	for attempt := 1; attempt <= 3; attempt++ {
		w.clock.Set(now)
		w.run(t, j)
		if n := w.sms.Calls(); n != attempt {
			t.Fatalf("run %d: %d calls", attempt, n)
		}
		now = now.Add(jobs.Backoff(attempt) + time.Second)
	}
	ms := w.all(t)
	if len(ms) != 1 || ms[0].Attempts != 3 || ms[0].FailedAt.IsZero() || !ms[0].SentAt.IsZero() {
		t.Fatalf("after %d failures: %+v, want failed for good", 3, ms)
	}
	if s := w.stats(t); s.Failed != 1 || s.Queued != 0 {
		t.Errorf("stats = %+v, want 1 failed", s)
	}
	if !strings.Contains(w.log.String(), "final=1") {
		t.Errorf("log lacks the final failure count:\n%s", w.log)
	}

	// Never retried again (until an admin calls RetryFailed).
	for _, later := range []time.Duration{time.Hour, 7 * time.Hour, 30 * 24 * time.Hour} {
		w.clock.Set(now.Add(later))
		w.run(t, j)
	}
	if n := w.sms.Calls(); n != 3 {
		t.Errorf("failed message retried: %d calls", n)
	}
	w.assertNoContentLogged(t)
}

func TestDeliverDefaultMaxAttemptsIsTen(t *testing.T) {
	w := newOutboxWorld(t)
	w.sms.FailAlways = true
	w.queue(t, smsTo(1))
	j := w.job() // MaxAttempts 0
	now := t0
	for attempt := 1; attempt <= 12; attempt++ {
		w.clock.Set(now)
		w.run(t, j)
		now = now.Add(jobs.Backoff(attempt) + time.Second)
	}
	if n := w.sms.Calls(); n != 10 {
		t.Errorf("%d attempts, want 10", n)
	}
	if ms := w.all(t); ms[0].FailedAt.IsZero() || ms[0].Attempts != 10 {
		t.Errorf("message = %+v, want failed after 10 attempts", ms[0])
	}
}

func TestDeliverLeavesUnconfiguredChannelQueued(t *testing.T) {
	w := newOutboxWorld(t)
	w.queue(t, emailTo(1))
	w.queue(t, smsTo(2))
	w.queue(t, emailTo(3))
	j := w.job()
	j.Email = nil
	for i := range 3 {
		w.clock.Set(t0.Add(time.Duration(i) * time.Hour))
		w.run(t, j)
	}
	if got := w.sms.Sent(); len(got) != 1 || got[0].To != w.msgs[1].Recipient {
		t.Errorf("SMS sent = %+v", got)
	}
	if n := w.email.Calls(); n != 0 {
		t.Errorf("the unconfigured email sender was called %d times", n)
	}
	for _, m := range w.all(t) {
		if m.Channel == db.ChannelEmail && (m.Attempts != 0 || !m.SentAt.IsZero() || !m.FailedAt.IsZero() || m.LastError != "") {
			t.Errorf("email %d = %+v, want still queued with no attempts", m.ID, m)
		}
	}
	s := w.stats(t)
	if s.Queued != 2 || s.QueuedByChannel[db.ChannelEmail] != 2 || s.QueuedByChannel[db.ChannelSMS] != 0 {
		t.Errorf("stats = %+v, want the 2 emails queued", s)
	}

	// Once SMTP is configured, they go out.
	w.run(t, w.job())
	if n := len(w.email.Sent()); n != 2 {
		t.Errorf("emails sent once configured: %d, want 2", n)
	}

	// With no sender at all, nothing is touched and the run still succeeds.
	w.queue(t, smsTo(4))
	w.run(t, jobs.Deliver{DB: w.d, Now: w.clock.Now, Log: slog.New(slog.NewTextHandler(w.log, nil))})
	if s := w.stats(t); s.Queued != 1 {
		t.Errorf("queued with no senders = %d, want 1", s.Queued)
	}
	w.assertNoContentLogged(t)
}

func TestDeliverFailureDoesNotStopBatchAndLogsNoContent(t *testing.T) {
	w := newOutboxWorld(t)
	w.queue(t, smsTo(1))
	w.queue(t, smsTo(2))
	w.queue(t, smsTo(3))
	w.queue(t, emailTo(4))
	w.queue(t, emailTo(5))
	w.sms.FailFirst = 2 // the first two SMS fail, the third goes out
	w.email.FailAlways = true
	j := w.job()
	j.MaxAttempts = 1 // emails fail for good at once
	w.run(t, j)

	if got := w.sms.Sent(); len(got) != 1 || got[0].To != w.msgs[2].Recipient {
		t.Errorf("SMS sent = %+v, want the third despite two failures", got)
	}
	if w.email.Calls() != 2 {
		t.Errorf("email calls = %d, want 2", w.email.Calls())
	}
	logged := w.log.String()
	for _, want := range []string{"sent=1", "final=", "id=", "channel=sms", "channel=email", "[recipient]"} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %q:\n%s", want, logged)
		}
	}
	w.assertNoContentLogged(t)
	for _, m := range w.all(t) {
		for _, q := range w.msgs {
			if strings.Contains(strings.ToLower(m.LastError), strings.ToLower(q.Recipient)) {
				t.Errorf("last_error of %d carries a recipient: %q", m.ID, m.LastError)
			}
		}
	}
}

func TestDeliverBatchesUpTo500PerRun(t *testing.T) {
	w := newOutboxWorld(t)
	for i := range 520 {
		w.queue(t, smsTo(i%100))
	}
	w.run(t, w.job())
	if n := len(w.sms.Sent()); n != 500 {
		t.Fatalf("first run sent %d, want 500", n)
	}
	if s := w.stats(t); s.Queued != 20 {
		t.Errorf("queued after first run = %d, want 20", s.Queued)
	}
	w.run(t, w.job())
	if n := len(w.sms.Sent()); n != 520 {
		t.Errorf("after second run sent %d, want 520", n)
	}
}

func TestDeliverToleratesVanishedMessage(t *testing.T) {
	w := newOutboxWorld(t)
	w.queue(t, smsTo(1))
	w.queue(t, smsTo(2))
	// The account is deleted while its message is being sent: the cascade
	// removes the row, and the run goes on.
	w.sms.Hook = func(m notify.Message) {
		if m.To == w.msgs[0].Recipient {
			if _, err := testkit.Raw(t, w.d).Exec(`DELETE FROM outbox WHERE recipient = ?`, m.To); err != nil {
				t.Error(err)
			}
		}
	}
	w.run(t, w.job())
	if n := len(w.sms.Sent()); n != 2 {
		t.Errorf("sent %d, want 2", n)
	}
	if ms := w.all(t); len(ms) != 1 || ms[0].SentAt.IsZero() {
		t.Errorf("outbox = %+v, want only the second, sent", ms)
	}
}

func TestDeliverPrunesOldMessages(t *testing.T) {
	w := newOutboxWorld(t)
	w.clock.Set(t0.Add(-100 * 24 * time.Hour))
	w.queue(t, smsTo(1))
	w.run(t, w.job()) // sent 100 days ago
	w.clock.Set(t0)
	w.queue(t, emailTo(2))
	j := w.job()
	j.Email = nil
	w.run(t, j)
	ms := w.all(t)
	if len(ms) != 1 || ms[0].Channel != db.ChannelEmail {
		t.Errorf("outbox after prune = %+v, want only the queued email", ms)
	}
	if !strings.Contains(w.log.String(), "pruned=1") {
		t.Errorf("log lacks pruned=1:\n%s", w.log)
	}
}

func TestDeliverStopsOnCancelledContext(t *testing.T) {
	w := newOutboxWorld(t)
	w.queue(t, smsTo(1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.job().RunOnce(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("RunOnce(cancelled) = %v, want context.Canceled", err)
	}
	if ms := w.all(t); len(ms) != 1 || ms[0].Attempts != 0 {
		t.Errorf("a cancelled run consumed an attempt: %+v", ms)
	}
}

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		n    int
		want time.Duration
	}{
		{0, time.Minute},
		{1, time.Minute},
		{2, 2 * time.Minute},
		{3, 4 * time.Minute},
		{9, 256 * time.Minute},
		{10, 6 * time.Hour},
		{20, 6 * time.Hour},
		{64, 6 * time.Hour},
		{1 << 30, 6 * time.Hour},
	} {
		if got := jobs.Backoff(c.n); got != c.want {
			t.Errorf("Backoff(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}
