package smscode_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/locale"
	"fse/internal/smscode"
)

// italian returns the n-th of many Italian mobiles, none of which reaches
// its own limits.
func italian(n int) string { return fmt.Sprintf("+39333%07d", n) }

// Past the daily budget the portal refuses codes strangers can trigger,
// to any number, until the oldest counted code is a day old; login codes
// are neither counted nor refused; the log says so once, with no number.
func TestDailyBudgetRefusesCodesUntilTheOldestIsADayOld(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.svc.DailyBudget = 3
	first := w.clock.Now()
	purposes := []string{db.OTPRegister, db.OTPReset, db.OTPContact}
	for i, p := range purposes {
		mode := smscode.SendNow
		if i == 1 {
			mode = smscode.SendNothing // counted too: the budget says nothing about accounts
		}
		if _, err := w.svc.Issue(ctx, p, italian(i), 0, mode, locale.Italian); err != nil {
			t.Fatalf("code %d: %v", i+1, err)
		}
		w.clock.Advance(time.Minute)
	}
	for _, p := range purposes {
		_, err := w.svc.Issue(ctx, p, italian(10), 0, smscode.SendNow, locale.Italian)
		var be smscode.BudgetError
		if !errors.As(err, &be) || !be.Until.Equal(first.Add(smscode.DailyWindow)) {
			t.Errorf("%s past the budget: %v, want a BudgetError until %v", p, err, first.Add(smscode.DailyWindow))
		}
	}
	if _, err := w.svc.Issue(ctx, db.OTPLogin, italian(11), 0, smscode.SendNow, locale.Italian); err != nil {
		t.Errorf("login code past the budget: %v, want sent", err)
	}
	b, err := w.svc.Budget(ctx)
	if err != nil || !b.Spent() || b.Used != 3 || b.Limit != 3 {
		t.Errorf("Budget = %+v, %v; want 3 of 3, spent", b, err)
	}
	if got := strings.Count(w.logs.String(), "daily budget of SMS codes spent"); got != 1 {
		t.Errorf("the spent budget was logged %d times, want once:\n%s", got, w.logs.String())
	}
	if strings.Contains(w.logs.String(), "333") {
		t.Errorf("the log holds a number:\n%s", w.logs.String())
	}

	// A day after the first code, one more may go.
	w.clock.Advance(smscode.DailyWindow - 3*time.Minute + time.Second)
	if _, err := w.svc.Issue(ctx, db.OTPRegister, italian(12), 0, smscode.SendNow, locale.Italian); err != nil {
		t.Errorf("a day after the first code: %v, want sent", err)
	}
}

// Deleting an account deletes its codes, not its place in the budget: a
// stranger cannot register, send codes and delete the account over and
// over.
func TestDeletingAnAccountDoesNotGiveTheBudgetBack(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.svc.DailyBudget = 2
	id, err := w.svc.DB.CreateAccount(ctx, db.Account{FirstName: "Mario", LastName: "Rossi", Mobile: italian(1), PasswordHash: "x",
		PrivacyVersion: "1", PrivacyAcceptedAt: w.clock.Now()}, "192.0.2.1", w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 3; i++ {
		if _, err := w.svc.Issue(ctx, db.OTPContact, italian(i), id, smscode.SendNow, locale.Italian); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.svc.DB.DeleteAccount(ctx, id, db.Actor{Kind: db.ActorPatient, ID: id}, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	var be smscode.BudgetError
	if _, err := w.svc.Issue(ctx, db.OTPRegister, italian(4), 0, smscode.SendNow, locale.Italian); !errors.As(err, &be) {
		t.Errorf("after the account's deletion: %v, want the budget still spent", err)
	}
}
