package db_test

import (
	"context"
	"testing"
	"time"

	"fse/db"
	"fse/internal/testkit"
)

// Reading pages must not take the only writer: an unchanged session's idle
// deadline is written at most once a RefreshEvery, a changed session at once.
func TestSessionStoreWritesAnUnchangedSessionOnlyWhenItsDeadlineMoves(t *testing.T) {
	d := testkit.OpenDB(t)
	ctx := context.Background()
	s := &db.SessionStore{DB: d, Now: func() time.Time { return t0 }, RefreshEvery: time.Minute}
	stored := func() time.Time {
		t.Helper()
		var exp time.Time
		if err := testkit.Raw(t, d).QueryRow(`SELECT expiry FROM sessions`).Scan(&exp); err != nil {
			t.Fatal(err)
		}
		return exp.UTC()
	}
	exp := t0.Add(15 * time.Minute)
	if err := s.CommitCtx(ctx, "tok", []byte("a"), exp); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		data   string
		expiry time.Time
		want   time.Time
	}{
		{"same data, deadline 30 s later: not written", "a", exp.Add(30 * time.Second), exp},
		{"same data, deadline 2 min later: written", "a", exp.Add(2 * time.Minute), exp.Add(2 * time.Minute)},
		{"new data, deadline 1 s later: written", "b", exp.Add(2*time.Minute + time.Second), exp.Add(2*time.Minute + time.Second)},
	} {
		if _, _, err := s.FindCtx(ctx, "tok"); err != nil {
			t.Fatal(err)
		}
		if err := s.CommitCtx(ctx, "tok", []byte(tt.data), tt.expiry); err != nil {
			t.Fatal(err)
		}
		if got := stored(); !got.Equal(tt.want) {
			t.Errorf("%s: stored expiry %v, want %v", tt.name, got, tt.want)
		}
	}
	// A fresh store (another process, a restart) knows nothing and writes.
	other := &db.SessionStore{DB: d, Now: func() time.Time { return t0 }, RefreshEvery: time.Minute}
	if err := other.CommitCtx(ctx, "tok", []byte("b"), exp.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := stored(); !got.Equal(exp.Add(3 * time.Minute)) {
		t.Errorf("a store that has not seen the session skipped the write: %v", got)
	}
	if err := s.DeleteCtx(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.FindCtx(ctx, "tok"); found {
		t.Error("deleted session found")
	}
}

// Staff and patient sessions share the table, never their tokens: a store
// neither finds, nor overwrites, nor deletes a session of another realm.
func TestSessionStoreKeepsToItsRealm(t *testing.T) {
	d := testkit.OpenDB(t)
	ctx := context.Background()
	now := func() time.Time { return t0 }
	staff := &db.SessionStore{DB: d, Realm: db.RealmStaff, Now: now}
	patient := &db.SessionStore{DB: d, Realm: db.RealmPatient, Now: now}
	exp := t0.Add(15 * time.Minute)
	if err := staff.CommitCtx(ctx, "tok", []byte("staff data"), exp); err != nil {
		t.Fatal(err)
	}
	if data, found, err := patient.FindCtx(ctx, "tok"); err != nil || found {
		t.Fatalf("the patient store found a staff session: %q, %v, %v", data, found, err)
	}
	if err := patient.CommitCtx(ctx, "tok", []byte("patient data"), exp); err != nil {
		t.Fatal(err)
	}
	if err := patient.DeleteCtx(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	data, found, err := staff.FindCtx(ctx, "tok")
	if err != nil || !found || string(data) != "staff data" {
		t.Errorf("staff session after the patient store's commit and delete: %q, %v, %v; want it unchanged", data, found, err)
	}
}
