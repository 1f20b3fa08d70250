package matching

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/ccojocar/zxcvbn-go/match"
	upstream "github.com/ccojocar/zxcvbn-go/matching"
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

// TestDictionariesAreDroppedWhenUnused: built by a check, kept while checks
// come, dropped some time after the last one.
func TestDictionariesAreDroppedWhenUnused(t *testing.T) {
	restart := func(keep time.Duration) {
		cache.mu.Lock()
		defer cache.mu.Unlock()
		if cache.timer != nil {
			cache.timer.Stop()
		}
		cache.d, cache.timer, cache.keep = nil, nil, keep
	}
	// Start from nothing: an earlier test's dictionaries wait for the
	// default ten minutes.
	restart(200 * time.Millisecond)
	t.Cleanup(func() { restart(10 * time.Minute) })
	Omnimatch("first check", nil)
	if !Loaded() {
		t.Fatal("the dictionaries are not in memory right after a check")
	}
	deadline := time.Now().Add(30 * time.Second)
	for Loaded() {
		if time.Now().After(deadline) {
			t.Fatal("the dictionaries are still in memory long after their time without a check")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := Omnimatch("password", nil); len(got) == 0 {
		t.Fatal("no matches for \"password\" after the dictionaries were dropped and rebuilt")
	}
	if !Loaded() {
		t.Fatal("the dictionaries were not rebuilt by the next check")
	}
}
