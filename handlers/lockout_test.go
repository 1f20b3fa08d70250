package handlers_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"fse/db"
)

// Tests of the login lockout shared by patients and staff.

// TestLockoutCountsParallelGuesses: guesses sent at once cannot outrun the
// lockout. At most 10 passwords are checked, whatever the concurrency; then
// even the right password is refused until the lock ends.
func TestLockoutCountsParallelGuesses(t *testing.T) {
	for _, tt := range []struct {
		name, path, field, id, good string
	}{
		{"patient", "/accedi", "identifier", "333 1234567", patientPassword},
		{"staff", "/desk/login", "username", receptionUser, receptionPass},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t)
			if tt.name == "patient" {
				a.register("Mario", "Rossi", "333 1234567", "")
			}
			const n = 40
			codes := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := a.client()
					c.ip = "198.51.100." + itoa(int64(i%250+1)) // many IPs: the per-IP limit does not help
					pw := "sbagliata numero " + itoa(int64(i))
					codes[i] = c.post(tt.path, url.Values{tt.field: {tt.id}, "password": {pw}}).Code
				}()
			}
			wg.Wait()
			checked := 0
			for _, code := range codes {
				if code != http.StatusTooManyRequests {
					checked++
				}
			}
			if checked > 10 {
				t.Errorf("%d of %d parallel attempts were checked, want at most 10", checked, n)
			}
			failed := a.auditActions(db.AuditFilter{Outcome: db.OutcomeFailed})
			if len(failed) > 10 {
				t.Errorf("%d failed logins audited, want at most 10", len(failed))
			}
			// The owner's right password is refused until the lock ends.
			if code := a.client().post(tt.path, url.Values{tt.field: {tt.id}, "password": {tt.good}}).Code; code != http.StatusTooManyRequests {
				t.Errorf("right password after the burst: %d, want 429", code)
			}
		})
	}
}
