package matching

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ccojocar/zxcvbn-go/match"
	upstream "github.com/ccojocar/zxcvbn-go/matching"

	"fse/internal/testkit"
)

// TestMatchesAreUpstreams: the copy finds exactly the matches upstream's
// package finds, filters and user inputs included.
func TestMatchesAreUpstreams(t *testing.T) {
	inputs := []string{"mario", "rossi", "3331234567"}
	for _, pw := range []string{
		"password", "P@ssw0rd1!", "qwertyuiop", "mariorossi1990", "correct horse battery staple",
		"abcabcabc", "zxcvbn", "11/05/1948", "3331234567", "Ж\x01\x01\x01\x01", "tr0ub4dor&3",
	} {
		for _, filtered := range []bool{false, true} {
			var filters []func(match.Matcher) bool
			if filtered {
				filters = append(filters, FilterL33tMatcher)
			}
			got := keys(Omnimatch(pw, inputs, filters...))
			want := keys(upstream.Omnimatch(pw, inputs, filters...))
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Omnimatch(%q, l33t filtered %v):\n got %v\nwant %v", pw, filtered, got, want)
			}
		}
	}
}

// keys lists matches in a fixed order: the dictionaries come from a map, so
// matches at the same position may come in any order.
func keys(ms []match.Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s/%s %d-%d %q %.4f", m.Pattern, m.DictionaryName, m.I, m.J, m.Token, m.Entropy))
	}
	sort.Strings(out)
	return out
}

// coldCache empties the cache, with the clock given, and puts the real one
// back after the test.
func coldCache(t *testing.T, clock func() time.Time) {
	reset := func(clock func() time.Time) {
		cache.mu.Lock()
		defer cache.mu.Unlock()
		if cache.timer != nil {
			cache.timer.Stop()
		}
		cache.d, cache.timer, cache.builds, cache.now = nil, nil, 0, clock
	}
	reset(clock)
	t.Cleanup(func() { reset(time.Now) })
}

func builds() int {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	return cache.builds
}

// TestDictionariesStayWhileUsedAndGoWhenNot: each check restarts the ten
// minutes; ten minutes without one drop the dictionaries, and the next
// check builds them again.
func TestDictionariesStayWhileUsedAndGoWhenNot(t *testing.T) {
	// The drop is called directly instead of waiting for the timer.
	clock := testkit.NewClock(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC))
	coldCache(t, clock.Now)
	keep := cache.keep

	Omnimatch("first check", nil)
	for range 3 {
		clock.Advance(keep - time.Minute)
		cache.dropIfUnused()
		if !Loaded() {
			t.Fatal("the dictionaries were dropped less than ten minutes after a check")
		}
		Omnimatch("another check", nil)
	}
	if got := builds(); got != 1 {
		t.Errorf("the dictionaries were built %d times while in use, want once", got)
	}

	clock.Advance(keep)
	cache.dropIfUnused()
	if Loaded() {
		t.Fatal("the dictionaries are still in memory ten minutes after the last check")
	}
	cache.dropIfUnused() // a timer firing late finds nothing to drop
	if got := Omnimatch("password", nil); len(got) == 0 {
		t.Fatal(`no matches for "password" after the dictionaries were dropped and rebuilt`)
	}
	if !Loaded() || builds() != 2 {
		t.Fatalf("after a drop the next check built the dictionaries %d times in all, want 2", builds())
	}
}

// TestConcurrentFirstChecksBuildOnce: checks arriving together on a cold
// cache wait for one build and all get its answer.
func TestConcurrentFirstChecksBuildOnce(t *testing.T) {
	coldCache(t, time.Now)
	want := keys(Omnimatch("P@ssw0rd1!", nil))
	coldCache(t, time.Now)
	var wg sync.WaitGroup
	got := make([][]string, 8)
	for i := range got {
		wg.Go(func() { got[i] = keys(Omnimatch("P@ssw0rd1!", nil)) })
	}
	wg.Wait()
	for i := range got {
		if fmt.Sprint(got[i]) != fmt.Sprint(want) {
			t.Errorf("check %d of 8 at once found other matches", i)
		}
	}
	if n := builds(); n != 1 {
		t.Errorf("8 checks at once on a cold cache built the dictionaries %d times, want once", n)
	}
}

// TestTheTimerDropsTheDictionaries: the real timer, with a short keep.
func TestTheTimerDropsTheDictionaries(t *testing.T) {
	coldCache(t, time.Now)
	cache.mu.Lock()
	cache.keep = 50 * time.Millisecond
	cache.mu.Unlock()
	t.Cleanup(func() {
		cache.mu.Lock()
		defer cache.mu.Unlock()
		cache.keep = 10 * time.Minute
	})
	Omnimatch("first check", nil)
	deadline := time.Now().Add(30 * time.Second)
	for Loaded() {
		if time.Now().After(deadline) {
			t.Fatal("the timer never dropped the dictionaries")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
