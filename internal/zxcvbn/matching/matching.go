// Package matching is github.com/ccojocar/zxcvbn-go/matching v1.0.4 with its
// dictionaries built when needed and dropped when unused, instead of built in
// init and kept for the life of the process (see ../README.md).
package matching

import (
	"sort"

	"fse/internal/zxcvbn/frequency"
	"github.com/ccojocar/zxcvbn-go/adjacency"
	"github.com/ccojocar/zxcvbn-go/match"
)

var (
	adjacencyGraphs = []adjacency.Graph{
		adjacency.GraphMap["qwerty"],
		adjacency.GraphMap["dvorak"],
		adjacency.GraphMap["keypad"],
		adjacency.GraphMap["macKeypad"],
	}
	l33tTable = adjacency.GraphMap["l33t"]

	sequences = map[string]string{
		"lower":  "abcdefghijklmnopqrstuvwxyz",
		"upper":  "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"digits": "0123456789",
	}
)

// Omnimatch runs all matchers against the password
func Omnimatch(password string, userInputs []string, filters ...func(match.Matcher) bool) (matches []match.Match) {
	d := cache.get()

	if userInputs != nil {
		userInputMatcher := buildDictMatcher("user_inputs", buildRankedDict(userInputs))
		matches = userInputMatcher(password)
	}

	for _, matcher := range d.matchers {
		shouldBeFiltered := false
		for i := range filters {
			if filters[i](matcher) {
				shouldBeFiltered = true
				break
			}
		}
		if !shouldBeFiltered {
			matches = append(matches, matcher.MatchingFunc(password)...)
		}
	}
	sort.Sort(match.Matches(matches))
	return matches
}

// loadFrequencyList builds the matchers upstream builds in init.
func loadFrequencyList() *dictionaries {
	d := &dictionaries{}
	for n, list := range frequency.Lists() {
		d.dictionaryMatchers = append(d.dictionaryMatchers, match.Matcher{MatchingFunc: buildDictMatcher(n, buildRankedDict(list.List)), ID: n})
	}

	d.matchers = append(d.matchers, d.dictionaryMatchers...)
	d.matchers = append(d.matchers, match.Matcher{MatchingFunc: spatialMatch, ID: spatialMatcherName})
	d.matchers = append(d.matchers, match.Matcher{MatchingFunc: repeatMatch, ID: repeatMatcherName})
	d.matchers = append(d.matchers, match.Matcher{MatchingFunc: sequenceMatch, ID: sequenceMatcherName})
	d.matchers = append(d.matchers, match.Matcher{MatchingFunc: d.l33tMatch, ID: L33TMatcherName})
	d.matchers = append(d.matchers, match.Matcher{MatchingFunc: dateSepMatcher, ID: dateSepMatcherName})
	d.matchers = append(d.matchers, match.Matcher{MatchingFunc: dateWithoutSepMatch, ID: dateWithOutSepMatcherName})
	return d
}
