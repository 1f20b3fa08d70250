package db_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"fse/db"
)

// A passkey is found by its credential id whoever owns it, takes the
// record a login leaves, and its credential id cannot be registered twice,
// not even by someone else.
func TestPasskeysAreFoundByCredentialAndUnique(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	owner := db.AccountOwner(f.account(t, mobile(1)))
	add := func(o db.Owner, credID string) (int64, error) {
		id, _, err := f.d.AddFactor(ctx, db.Factor{Owner: o, Kind: db.FactorPasskey, Name: "Telefono",
			CredentialID: []byte(credID), Credential: []byte(`{"signCount":0}`)}, nil,
			db.AuditEvent{Actor: cli, Action: db.ActionAccountFactorAdd}, t0)
		return id, err
	}
	id, err := add(owner, "cred-1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.d.PasskeyByCredential(ctx, []byte("cred-1"))
	if err != nil || got.ID != id || got.Owner != owner || got.Name != "Telefono" {
		t.Fatalf("PasskeyByCredential = %+v, %v", got, err)
	}
	if _, err := f.d.PasskeyByCredential(ctx, []byte("cred-2")); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("unknown credential: %v, want ErrNotFound", err)
	}
	if _, err := add(db.StaffOwner(f.staffID), "cred-1"); !errors.Is(err, db.ErrConflict) {
		t.Errorf("the same credential for someone else: %v, want ErrConflict", err)
	}

	used := t0.Add(time.Hour)
	if err := f.d.UsePasskey(ctx, id, []byte(`{"signCount":0}`), []byte(`{"signCount":1}`), used); err != nil {
		t.Fatal(err)
	}
	got, _ = f.d.PasskeyByCredential(ctx, []byte("cred-1"))
	if !bytes.Equal(got.Credential, []byte(`{"signCount":1}`)) || !got.LastUsedAt.Equal(used) {
		t.Errorf("after a login: record %s, last use %v", got.Credential, got.LastUsedAt)
	}
	if err := f.d.RemoveFactor(ctx, owner, id, false, db.AuditEvent{Actor: cli, Action: db.ActionAccountFactorRemove}, used); err != nil {
		t.Fatal(err)
	}
	if err := f.d.UsePasskey(ctx, id, []byte(`{"signCount":1}`), []byte(`{}`), used); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("a removed passkey used: %v, want ErrNotFound", err)
	}
}

// A passkey without its credential cannot be stored: it could never log in.
func TestPasskeyNeedsItsCredential(t *testing.T) {
	f := newFixture(t)
	_, _, err := f.d.AddFactor(context.Background(), db.Factor{Owner: db.AccountOwner(f.account(t, mobile(1))), Kind: db.FactorPasskey,
		Name: "Telefono"}, nil, db.AuditEvent{Actor: cli, Action: db.ActionAccountFactorAdd}, t0)
	if err == nil {
		t.Fatal("a passkey without credential was stored")
	}
}

// Two logins racing with one passkey were both checked against the same
// record: the second to store its own finds the record changed and is
// refused, so the counter never goes back and one answer cannot count twice.
func TestUsePasskeyRefusesARecordChangedMeanwhile(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id, _, err := f.d.AddFactor(ctx, db.Factor{Owner: db.AccountOwner(f.account(t, mobile(1))), Kind: db.FactorPasskey, Name: "Telefono",
		CredentialID: []byte("cred-1"), Credential: []byte(`{"signCount":4}`)}, nil,
		db.AuditEvent{Actor: cli, Action: db.ActionAccountFactorAdd}, t0)
	if err != nil {
		t.Fatal(err)
	}
	checked := []byte(`{"signCount":4}`)
	if err := f.d.UsePasskey(ctx, id, checked, []byte(`{"signCount":6}`), t0); err != nil {
		t.Fatalf("the first login: %v", err)
	}
	if err := f.d.UsePasskey(ctx, id, checked, []byte(`{"signCount":5}`), t0); !errors.Is(err, db.ErrConflict) {
		t.Fatalf("the second login checked against the same record: %v, want ErrConflict", err)
	}
	got, _ := f.d.PasskeyByCredential(ctx, []byte("cred-1"))
	if string(got.Credential) != `{"signCount":6}` {
		t.Errorf("record after the race: %s, want the first login's", got.Credential)
	}
}

// A login ceremony serves one answer: taking it is one statement, so of
// two copies of an answer only one finds it, and an expired or unknown
// ceremony is never there.
func TestPasskeyCeremonyIsTakenOnce(t *testing.T) {
	ctx := context.Background()
	d := openDB(t)
	expires := t0.Add(3 * time.Minute)
	for _, id := range []string{"ceremony-1", "ceremony-2"} {
		if err := d.StartPasskeyCeremony(ctx, []byte(id), expires, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.TakePasskeyCeremony(ctx, []byte("ceremony-1"), t0.Add(time.Minute)); err != nil {
		t.Fatalf("the first answer: %v", err)
	}
	for _, tt := range []struct {
		what, id string
		at       time.Time
	}{
		{"the same ceremony again", "ceremony-1", t0.Add(time.Minute)},
		{"a ceremony never started", "ceremony-3", t0.Add(time.Minute)},
		{"an expired ceremony", "ceremony-2", expires},
	} {
		if err := d.TakePasskeyCeremony(ctx, []byte(tt.id), tt.at); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", tt.what, err)
		}
	}
}
