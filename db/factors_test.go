package db_test

import (
	"context"
	"errors"
	"testing"

	"fse/db"
)

// Two removals sent at once, each of a member's two factors, both pass a
// check made before their transactions ("is it the last?": no, there are
// two). Counted inside the transaction, the second finds its factor the
// last and leaves it.
func TestRemoveFactorKeepsTheLastOneWhenOneIsRequired(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	owner := db.StaffOwner(f.staffID)
	add := func(name string) int64 {
		id, _, err := f.d.AddFactor(ctx, db.Factor{Owner: owner, Kind: db.FactorTOTP, Name: name, Secret: []byte("sealed")}, nil,
			db.AuditEvent{Actor: cli, Action: db.ActionStaffFactorAdd}, t0)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	first, second := add("Telefono"), add("Tablet")
	remove := db.AuditEvent{Actor: cli, Action: db.ActionStaffFactorRemove}

	if err := f.d.RemoveFactor(ctx, owner, first, true, remove, t0); err != nil {
		t.Fatalf("removing one of two factors: %v", err)
	}
	if err := f.d.RemoveFactor(ctx, owner, second, true, remove, t0); !errors.Is(err, db.ErrLastFactor) {
		t.Fatalf("removing the last required factor: %v, want ErrLastFactor", err)
	}
	left, err := f.d.Factors(ctx, owner)
	if err != nil || len(left) != 1 || left[0].ID != second {
		t.Fatalf("factors left: %+v (%v), want the second", left, err)
	}
	ev, err := f.d.ListAudit(ctx, db.AuditFilter{Action: db.ActionStaffFactorRemove, Limit: 10})
	if err != nil || len(ev) != 1 {
		t.Errorf("removals audited: %d (%v), want 1: a refused one is not", len(ev), err)
	}
	// Without the policy, the last one goes too.
	if err := f.d.RemoveFactor(ctx, owner, second, false, remove, t0); err != nil {
		t.Fatalf("removing the last factor, none required: %v", err)
	}
}
