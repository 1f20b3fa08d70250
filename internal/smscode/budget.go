package smscode

import (
	"context"
	"time"

	"fse/db"
)

// DefaultDailyBudget is how many codes strangers can trigger the portal
// sends in 24 hours when none is configured: far above what a clinic's
// registrations, resets and new mobiles need, far below a pumping bill.
const DefaultDailyBudget = 500

// The daily budget counts the codes strangers can trigger: registration
// and password reset (anyone can type a number) and a new mobile (anyone
// with an account). Login codes need the account's password, are bounded
// per account, and are neither counted nor refused, so a flood cannot
// lock patients out of their login. Notices of published reports and
// security notices are not codes: they go through the outbox, to numbers
// the desk or the holder recorded, and the budget does not count them.
func budgeted(purpose string) bool { return purpose != db.OTPLogin }

// BudgetError means the portal's daily budget of codes is spent until
// Until, for every number.
type BudgetError struct{ Until time.Time }

func (e BudgetError) Error() string {
	return "sms codes: the daily budget is spent until " + e.Until.Format(time.RFC3339)
}

// Budget is the state of the portal's daily budget of codes.
type Budget struct {
	// Used codes in the last 24 hours, at most Limit.
	Used, Limit int
	// Until is when a code may go again, once the budget is spent.
	Until time.Time
}

// Spent reports whether codes are refused now.
func (b Budget) Spent() bool { return b.Used >= b.Limit }

// Budget returns the state of the daily budget, for the admins' warning.
func (s *Service) Budget(ctx context.Context) (Budget, error) {
	limit := s.DailyBudget
	if limit <= 0 {
		limit = DefaultDailyBudget
	}
	times, err := s.DB.BudgetedOTPTimes(ctx, s.Now().UTC().Add(-DailyWindow), limit)
	if err != nil {
		return Budget{}, err
	}
	b := Budget{Used: len(times), Limit: limit}
	if b.Spent() {
		// The limit-th newest code leaves the window first.
		b.Until = times[limit-1].Add(DailyWindow)
	}
	return b, nil
}

// checkBudget refuses a code that counts in the budget once it is spent,
// and logs that, once an hour at most (never a number).
func (s *Service) checkBudget(ctx context.Context, purpose string) error {
	if !budgeted(purpose) {
		return nil
	}
	b, err := s.Budget(ctx)
	if err != nil || !b.Spent() {
		return err
	}
	now := s.Now()
	s.budgetMu.Lock()
	log := s.budgetLogged.IsZero() || now.Sub(s.budgetLogged) >= time.Hour
	if log {
		s.budgetLogged = now
	}
	s.budgetMu.Unlock()
	if log {
		s.Log.Warn("daily budget of SMS codes spent: codes refused until it frees up (an SMS pumping attempt?)",
			"limit", b.Limit, "until", b.Until.Format(time.RFC3339))
	}
	return BudgetError{Until: b.Until}
}
