package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fse/db"
)

// sms and mail build queued messages; n keeps recipients and bodies distinct.
func sms(n int) db.OutboxMessage {
	return db.OutboxMessage{Channel: db.ChannelSMS, Recipient: "+39333000000" + string(rune('0'+n)),
		Body: "Referto disponibile " + string(rune('A'+n)), Kind: "report_available"}
}

func mail(n int) db.OutboxMessage {
	return db.OutboxMessage{Channel: db.ChannelEmail, Recipient: "paziente" + string(rune('a'+n)) + "@example.it",
		Subject: "Referto disponibile", Body: "Gentile paziente, corpo " + string(rune('A'+n)), Kind: "report_available"}
}

func enqueue(t *testing.T, d *db.DB, m db.OutboxMessage, now time.Time) int64 {
	t.Helper()
	if err := d.Enqueue(context.Background(), m, now); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	// The id is the newest row's; RecentOutbox is newest first.
	recent, err := d.RecentOutbox(context.Background(), false, 1)
	if err != nil || len(recent) != 1 {
		t.Fatalf("RecentOutbox after Enqueue: %v %v", recent, err)
	}
	return recent[0].ID
}

var allChannels = []string{db.ChannelSMS, db.ChannelEmail}

func due(t *testing.T, d *db.DB, now time.Time, channels []string) []db.OutboxMessage {
	t.Helper()
	ms, err := d.DueMessages(context.Background(), now, channels, 50)
	if err != nil {
		t.Fatalf("DueMessages: %v", err)
	}
	return ms
}

func ids(ms []db.OutboxMessage) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func stats(t *testing.T, d *db.DB, now time.Time) db.OutboxStats {
	t.Helper()
	s, err := d.OutboxStats(context.Background(), now)
	if err != nil {
		t.Fatalf("OutboxStats: %v", err)
	}
	return s
}

func TestOutboxEnqueueThenDue(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	// An account, so account_id is exercised through its foreign key.
	res, err := d.WriterForTest().ExecContext(ctx, `INSERT INTO accounts(first_name, last_name, mobile, password_hash,
		privacy_version, privacy_accepted_at, sessions_valid_after, created_at) VALUES ('Mario', 'Rossi', '+393330000009', 'x', 'v1', ?, ?, ?)`,
		t0, t0, t0)
	if err != nil {
		t.Fatal(err)
	}
	accountID, _ := res.LastInsertId()

	m := mail(1)
	m.AccountID = accountID
	idMail := enqueue(t, d, m, t0)
	idSMS := enqueue(t, d, sms(2), t0.Add(time.Second))

	got := due(t, d, t0.Add(time.Second), allChannels)
	if len(got) != 2 || got[0].ID != idMail || got[1].ID != idSMS {
		t.Fatalf("due = %v, want [%d %d] oldest first", ids(got), idMail, idSMS)
	}
	g := got[0]
	if g.Channel != db.ChannelEmail || g.Recipient != m.Recipient || g.Subject != m.Subject || g.Body != m.Body ||
		g.Kind != m.Kind || g.AccountID != accountID || g.Attempts != 0 || g.LastError != "" ||
		!g.CreatedAt.Equal(t0) || !g.NextAttemptAt.Equal(t0) || !g.SentAt.IsZero() || !g.FailedAt.IsZero() {
		t.Errorf("due message = %+v, want the queued one (%+v) due at %v", g, m, t0)
	}
	if got[1].AccountID != 0 {
		t.Errorf("message without account has AccountID %d", got[1].AccountID)
	}

	// Limit.
	if ms, err := d.DueMessages(ctx, t0.Add(time.Second), allChannels, 1); err != nil || len(ms) != 1 || ms[0].ID != idMail {
		t.Errorf("DueMessages limit 1 = %v, %v; want [%d]", ids(ms), err, idMail)
	}
}

func TestOutboxEnqueueRejectsBadMessages(t *testing.T) {
	d := openDB(t)
	bad := sms(1)
	bad.Channel = "fax"
	if err := d.Enqueue(context.Background(), bad, t0); err == nil {
		t.Error("Enqueue accepted channel fax")
	}
	bad = sms(1)
	bad.Recipient = ""
	if err := d.Enqueue(context.Background(), bad, t0); err == nil {
		t.Error("Enqueue accepted an empty recipient")
	}
	if s := stats(t, d, t0); s.Queued != 0 {
		t.Errorf("Queued = %d after rejected messages", s.Queued)
	}
}

func TestOutboxDueChannelFilter(t *testing.T) {
	d := openDB(t)
	idSMS := enqueue(t, d, sms(1), t0)
	idMail := enqueue(t, d, mail(2), t0)
	if got := due(t, d, t0, []string{db.ChannelSMS}); len(got) != 1 || got[0].ID != idSMS {
		t.Errorf("due sms = %v, want [%d]", ids(got), idSMS)
	}
	if got := due(t, d, t0, []string{db.ChannelEmail}); len(got) != 1 || got[0].ID != idMail {
		t.Errorf("due email = %v, want [%d]", ids(got), idMail)
	}
	if got := due(t, d, t0, nil); len(got) != 0 {
		t.Errorf("due with no channels = %v, want none", ids(got))
	}
}

func TestOutboxNotDueBeforeNextAttempt(t *testing.T) {
	d := openDB(t)
	enqueue(t, d, sms(1), t0)
	if got := due(t, d, t0.Add(-time.Nanosecond), allChannels); len(got) != 0 {
		t.Errorf("due before next_attempt_at: %v", ids(got))
	}
	if got := due(t, d, t0, allChannels); len(got) != 1 {
		t.Errorf("due at next_attempt_at: %v, want 1", ids(got))
	}
}

func TestOutboxMarkSent(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	id := enqueue(t, d, sms(1), t0)
	other := enqueue(t, d, sms(2), t0)
	if err := d.MarkSent(ctx, id, t0.Add(time.Minute)); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	if got := due(t, d, t0.Add(time.Hour), allChannels); len(got) != 1 || got[0].ID != other {
		t.Errorf("due after MarkSent = %v, want only [%d]", ids(got), other)
	}
	s := stats(t, d, t0.Add(time.Hour))
	if s.SentLast24h != 1 || s.Queued != 1 || s.Failed != 0 {
		t.Errorf("stats = %+v, want 1 sent in 24h, 1 queued", s)
	}
	if s := stats(t, d, t0.Add(25*time.Hour)); s.SentLast24h != 0 {
		t.Errorf("SentLast24h a day later = %d, want 0", s.SentLast24h)
	}
	if err := d.MarkSent(ctx, 9999, t0); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("MarkSent(unknown) = %v, want ErrNotFound", err)
	}
}

func TestOutboxMarkAttemptFailedReschedules(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	id := enqueue(t, d, sms(1), t0)
	if err := d.MarkAttemptFailed(ctx, id, "gateway 503", t0.Add(time.Minute), false, t0); err != nil {
		t.Fatalf("MarkAttemptFailed: %v", err)
	}
	if got := due(t, d, t0.Add(30*time.Second), allChannels); len(got) != 0 {
		t.Errorf("due before the rescheduled attempt: %v", ids(got))
	}
	got := due(t, d, t0.Add(time.Minute), allChannels)
	if len(got) != 1 || got[0].Attempts != 1 || got[0].LastError != "gateway 503" || !got[0].NextAttemptAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("due after reschedule = %+v, want attempts 1, the error, next at +1m", got)
	}

	// A second failure counts again and truncates long errors to 300 characters.
	long := strings.Repeat("è", 400)
	if err := d.MarkAttemptFailed(ctx, id, long, t0.Add(3*time.Minute), false, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got = due(t, d, t0.Add(3*time.Minute), allChannels)
	if len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("after second failure: %+v, want attempts 2", got)
	}
	if n := utf8.RuneCountInString(got[0].LastError); n != 300 || !utf8.ValidString(got[0].LastError) {
		t.Errorf("LastError has %d characters (valid UTF-8: %v), want 300", n, utf8.ValidString(got[0].LastError))
	}
	if s := stats(t, d, t0.Add(3*time.Minute)); s.Queued != 1 || s.Failed != 0 {
		t.Errorf("stats = %+v, want still queued", s)
	}
	if err := d.MarkAttemptFailed(ctx, 9999, "x", t0, false, t0); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("MarkAttemptFailed(unknown) = %v, want ErrNotFound", err)
	}
}

func TestOutboxMarkAttemptFailedFinal(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	id := enqueue(t, d, sms(1), t0)
	failAt := t0.Add(time.Minute)
	if err := d.MarkAttemptFailed(ctx, id, "number unreachable", failAt.Add(time.Hour), true, failAt); err != nil {
		t.Fatal(err)
	}
	if got := due(t, d, t0.Add(1000*time.Hour), allChannels); len(got) != 0 {
		t.Errorf("failed message still due: %v", ids(got))
	}
	s := stats(t, d, failAt)
	if s.Failed != 1 || s.Queued != 0 || len(s.QueuedByChannel) != 0 || !s.OldestQueued.IsZero() {
		t.Errorf("stats = %+v, want 1 failed, nothing queued", s)
	}
	recent, err := d.RecentOutbox(ctx, true, 10)
	if err != nil || len(recent) != 1 {
		t.Fatalf("RecentOutbox(problems) = %v, %v", recent, err)
	}
	if r := recent[0]; !r.FailedAt.Equal(failAt) || r.Attempts != 1 || r.LastError != "number unreachable" {
		t.Errorf("failed message = %+v, want failed at %v after 1 attempt", r, failAt)
	}
}

func TestRecentOutboxHidesBodiesAndFiltersProblems(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	sent := enqueue(t, d, mail(1), t0)
	clean := enqueue(t, d, sms(2), t0)
	retrying := enqueue(t, d, sms(3), t0)
	failed := enqueue(t, d, mail(4), t0)
	if err := d.MarkSent(ctx, sent, t0); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkAttemptFailed(ctx, retrying, "timeout", t0.Add(time.Minute), false, t0); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkAttemptFailed(ctx, failed, "550 mailbox unavailable", t0, true, t0); err != nil {
		t.Fatal(err)
	}

	all, err := d.RecentOutbox(ctx, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(all), []int64{failed, retrying, clean, sent}; !equalIDs(got, want) {
		t.Errorf("RecentOutbox(all) = %v, want %v newest first", got, want)
	}
	problems, err := d.RecentOutbox(ctx, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(problems), []int64{failed, retrying}; !equalIDs(got, want) {
		t.Errorf("RecentOutbox(problems) = %v, want %v", got, want)
	}
	for _, m := range append(all, problems...) {
		if m.Body != "" {
			t.Errorf("RecentOutbox returned the body of message %d: %q", m.ID, m.Body)
		}
		if m.Recipient == "" || m.Channel == "" {
			t.Errorf("RecentOutbox message %d lacks its status fields: %+v", m.ID, m)
		}
	}
	if limited, err := d.RecentOutbox(ctx, false, 2); err != nil || len(limited) != 2 {
		t.Errorf("RecentOutbox limit 2 = %v, %v", ids(limited), err)
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRetryFailedRequeuesAndAudits(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	id := enqueue(t, d, sms(1), t0)
	queued := enqueue(t, d, sms(2), t0)
	for i := range 3 {
		final := i == 2
		if err := d.MarkAttemptFailed(ctx, id, "down", t0.Add(time.Hour), final, t0); err != nil {
			t.Fatal(err)
		}
	}
	admin := db.Actor{Kind: "staff", ID: 7, Name: "admin", IP: "10.0.0.1"}
	later := t0.Add(2 * time.Hour)
	if err := d.RetryFailed(ctx, id, admin, later); err != nil {
		t.Fatalf("RetryFailed: %v", err)
	}
	got := due(t, d, later, []string{db.ChannelSMS})
	var m *db.OutboxMessage
	for i := range got {
		if got[i].ID == id {
			m = &got[i]
		}
	}
	if m == nil {
		t.Fatalf("retried message %d not due at %v: %v", id, later, ids(got))
	}
	if m.Attempts != 0 || !m.FailedAt.IsZero() || !m.NextAttemptAt.Equal(later) {
		t.Errorf("retried message = %+v, want attempts 0, not failed, due at %v", *m, later)
	}
	if s := stats(t, d, later); s.Failed != 0 || s.Queued != 2 {
		t.Errorf("stats after retry = %+v", s)
	}

	ev, err := d.ListAudit(ctx, db.AuditFilter{Action: "outbox.retry"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 || ev[0].ObjectType != "outbox" || ev[0].ObjectID != id || ev[0].Actor.Name != "admin" ||
		ev[0].Actor.ID != 7 || !ev[0].At.Equal(later) || ev[0].Outcome != db.OutcomeOK {
		t.Fatalf("audit = %+v, want one outbox.retry of message %d by admin", ev, id)
	}
	if strings.Contains(ev[0].Detail, "+39") {
		t.Errorf("audit detail carries the recipient: %q", ev[0].Detail)
	}

	// Only failed messages can be retried.
	if err := d.RetryFailed(ctx, queued, admin, later); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("RetryFailed(queued) = %v, want ErrNotFound", err)
	}
	if err := d.RetryFailed(ctx, 9999, admin, later); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("RetryFailed(unknown) = %v, want ErrNotFound", err)
	}
	if ev, _ := d.ListAudit(ctx, db.AuditFilter{Action: "outbox.retry"}); len(ev) != 1 {
		t.Errorf("refused retries were audited: %+v", ev)
	}
}

func TestPruneOutboxKeepsQueued(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	old := t0.Add(-100 * 24 * time.Hour)
	oldSent := enqueue(t, d, sms(1), old)
	oldFailed := enqueue(t, d, sms(2), old)
	oldQueued := enqueue(t, d, sms(3), old)
	oldRetrying := enqueue(t, d, sms(4), old)
	recentSent := enqueue(t, d, mail(5), t0.Add(-time.Hour))
	recentFailed := enqueue(t, d, mail(6), t0.Add(-time.Hour))
	for _, err := range []error{
		d.MarkSent(ctx, oldSent, old),
		d.MarkAttemptFailed(ctx, oldFailed, "x", old, true, old),
		d.MarkAttemptFailed(ctx, oldRetrying, "x", old.Add(time.Minute), false, old),
		d.MarkSent(ctx, recentSent, t0.Add(-time.Hour)),
		d.MarkAttemptFailed(ctx, recentFailed, "x", t0, true, t0.Add(-time.Hour)),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := d.PruneOutbox(ctx, t0.Add(-90*24*time.Hour))
	if err != nil {
		t.Fatalf("PruneOutbox: %v", err)
	}
	if n != 2 {
		t.Errorf("PruneOutbox deleted %d, want 2 (old sent and old failed)", n)
	}
	left, err := d.RecentOutbox(ctx, false, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(left), []int64{recentFailed, recentSent, oldRetrying, oldQueued}; !equalIDs(got, want) {
		t.Errorf("left after prune = %v, want %v", got, want)
	}
	if n, err := d.PruneOutbox(ctx, t0.Add(-90*24*time.Hour)); err != nil || n != 0 {
		t.Errorf("second PruneOutbox = %d, %v; want 0", n, err)
	}
}

func TestOutboxStatsQueuedByChannel(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	if s := stats(t, d, t0); s.Queued != 0 || s.Failed != 0 || s.SentLast24h != 0 || !s.OldestQueued.IsZero() ||
		s.QueuedByChannel == nil || len(s.QueuedByChannel) != 0 {
		t.Errorf("stats of an empty outbox = %+v", s)
	}
	sentFirst := enqueue(t, d, sms(0), t0.Add(-3*time.Hour))
	enqueue(t, d, sms(1), t0.Add(-2*time.Hour))
	enqueue(t, d, sms(2), t0.Add(-time.Hour))
	enqueue(t, d, mail(3), t0)
	failed := enqueue(t, d, mail(4), t0)
	if err := d.MarkSent(ctx, sentFirst, t0); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkAttemptFailed(ctx, failed, "x", t0, true, t0); err != nil {
		t.Fatal(err)
	}
	s := stats(t, d, t0)
	if s.Queued != 3 || s.Failed != 1 || s.SentLast24h != 1 {
		t.Errorf("stats = %+v, want 3 queued, 1 failed, 1 sent", s)
	}
	if s.QueuedByChannel[db.ChannelSMS] != 2 || s.QueuedByChannel[db.ChannelEmail] != 1 || len(s.QueuedByChannel) != 2 {
		t.Errorf("QueuedByChannel = %v, want sms 2, email 1", s.QueuedByChannel)
	}
	if want := t0.Add(-2 * time.Hour); !s.OldestQueued.Equal(want) {
		t.Errorf("OldestQueued = %v, want %v (the sent one is older but not queued)", s.OldestQueued, want)
	}
}
