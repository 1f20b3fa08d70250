// Package pwpolicy decides whether a new password is acceptable for the
// portal, following NIST SP 800-63B and OWASP: a length window, any Unicode
// (spaces included), no composition rules ("must contain a digit" makes
// passwords harder to remember without making them harder to guess), and a
// refusal of common or easily guessed passwords, estimated with zxcvbn.
//
// Refusals carry a short Italian explanation meant to be shown as-is to the
// patient, many of whom are elderly: it says what is wrong and what to do,
// never only "password debole". Problem.Message gives it in the patient's
// language, from the message catalogue (area "password").
package pwpolicy

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"fse/internal/zxcvbn/matching"
	"github.com/ccojocar/zxcvbn-go/adjacency"
	"github.com/ccojocar/zxcvbn-go/match"
	"github.com/ccojocar/zxcvbn-go/scoring"
	"golang.org/x/text/unicode/norm"

	"fse/internal/locale"
)

// MinLength is the minimum number of Unicode code points (after NFKC): NIST
// asks for at least 8; 10 gives a margin against offline guessing while a
// short sentence still fits easily.
const MinLength = 10

// MaxLength is the maximum number of Unicode code points (after NFKC): long
// enough for any passphrase or password-manager output (NIST asks to allow at
// least 64), short enough to bound the work of normalising and estimating.
const MaxLength = 128

// MinScore is the lowest zxcvbn score (0–4) accepted. In this port 3 means
// an estimated ≥ 10^6 s to crack at 10^4 guesses per second, i.e. about 34
// bits of guessing work; 2 and below fall in under 12 days at that rate to
// anyone who tries the usual lists, patterns and the person's own data.
const MinScore = 3

// Italian reasons shown to the user: short, concrete, and each says what
// makes the password guessable so the person knows what to change.
const (
	reasonTooShort = "La password deve avere almeno 10 caratteri."
	reasonTooLong  = "La password può avere al massimo 128 caratteri."
	reasonCommon   = "È una password molto comune o facile da indovinare: ne scelga una meno prevedibile, per esempio una frase di tre o quattro parole."
	reasonPersonal = "Contiene il suo nome, il suo numero o altri suoi dati personali: sono facili da indovinare."
	reasonRepeat   = "Contiene ripetizioni (come «aaaa» o «abcabc») facili da indovinare."
	reasonSequence = "Contiene una sequenza (come «abcd» o «1234») facile da indovinare."
	reasonSpatial  = "Contiene una sequenza di tasti vicini sulla tastiera, facile da indovinare."
	reasonDate     = "Contiene una data, facile da indovinare."
	reasonGeneric  = "La password è troppo facile da indovinare: usi una frase di più parole."
)

// Normalize applies NFKC so the same password typed on different
// keyboards/devices hashes the same: a precomposed "è" and "e" + combining
// grave, or full-width "ａ" from an Asian IME and "a", become one form.
// Callers must hash Normalize(pw), the same string Check judged.
func Normalize(pw string) string {
	return norm.NFKC.String(pw)
}

// Problem is a refusal with a user-facing Italian explanation, so the
// handler can show Reason next to the field without translating it.
type Problem struct {
	// Reason is one complete Italian sentence for the user.
	Reason string
}

// Error returns the Italian reason, so a *Problem can travel as an error and
// still be shown verbatim.
func (p *Problem) Error() string { return p.Reason }

// messageIDs name the catalogue's message of each reason a patient can be
// given; the Italian catalogue holds the reasons above word for word.
var messageIDs = map[string]string{
	reasonTooShort: "password.too_short",
	reasonTooLong:  "password.too_long",
	reasonCommon:   "password.common",
	reasonPersonal: "password.personal",
	reasonRepeat:   "password.repeat",
	reasonSequence: "password.sequence",
	reasonSpatial:  "password.spatial",
	reasonDate:     "password.date",
	reasonGeneric:  "password.generic",
}

// Message is the refusal in pr's language, for the patient pages. A reason
// without a message (the staff's longer minimum) stays Italian: staff
// pages speak Italian.
func (p *Problem) Message(pr *locale.Printer) string {
	if id, ok := messageIDs[p.Reason]; ok {
		return pr.T(id)
	}
	return p.Reason
}

// maxRawBytes refuses absurdly large inputs before normalising them. NFKC
// never drops characters, and the most it merges into one code point is a
// canonical decomposition (at most 4 code points, 12 bytes, checked over all
// of Unicode), so input over 32 bytes per allowed code point cannot normalise
// to MaxLength code points or fewer.
const maxRawBytes = 32 * MaxLength

// maxEstimateLen is how many code points of the password zxcvbn examines.
// zxcvbn-go's dictionary matcher looks up every substring in every list, so
// its cost grows with the square of the length: on 128 characters Check took
// 16–44 ms per call (random, words, digits) and 180 ms for l33t-rich input
// even with maxLeetVariants, against 1–6 ms and 25 ms on the first 64
// (BenchmarkCheck, AMD EPYC). 128-character passwords come from password
// managers or long sentences and are strong anyway; 64 characters are more
// than the 34 bits MinScore needs. The prefix is judged on its own: the rest
// of the password can only add guessing work, with one exception accepted
// for the bounded cost: a common word cut in two at the 64th character counts
// as random letters instead of a word.
const maxEstimateLen = 64

// Check returns nil or a *Problem. userInputs are the person's own data
// (first name, last name, mobile digits, email local part, birth year...)
// that must not make up the password: zxcvbn ranks them as the first words
// an attacker who knows the person would try. Inputs are compared without
// case or accents and are also split at spaces and punctuation, so passing
// "+39 333 1234567" also covers "3331234567" and "1234567". Check normalizes
// first, so it judges exactly what will be hashed: store
// hash(Normalize(pw)).
//
// Order: length, then zxcvbn. Length is counted in code points after NFKC,
// so "però" is four characters, not five bytes.
//
// zxcvbn's dictionaries are built by the first Check after ten minutes
// without one (about 80 ms of CPU, as much as the password's hash) and
// dropped ten minutes after the last (package internal/zxcvbn/matching):
// the portal does not carry their 18 MB between registrations.
func Check(pw string, userInputs ...string) error {
	if len(pw) > maxRawBytes {
		return &Problem{Reason: reasonTooLong}
	}
	pw = Normalize(pw)
	switch n := utf8.RuneCountInString(pw); {
	case n < MinLength:
		return &Problem{Reason: reasonTooShort}
	case n > MaxLength:
		return &Problem{Reason: reasonTooLong}
	}

	m := newRuneMapper()
	est := m.estimateInput(pw)
	personal, dict := buildInputs(m, userInputs)

	var filters []func(match.Matcher) bool
	if leetVariants(est) > maxLeetVariants {
		filters = append(filters, matching.FilterL33tMatcher)
	}
	matches := matching.Omnimatch(est, dict, filters...)
	fixMatches(est, matches)
	res := scoring.MinimumEntropyMatchSequence(est, matches)
	if res.Score >= MinScore {
		return nil
	}
	return &Problem{Reason: reason(res.MatchSequence, matches, personal)}
}

// fold removes diacritics (NFD, drop nonspacing marks, NFC): "perché" and
// "perche" are one guess for an attacker, and zxcvbn's lists are unaccented.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

// placeholders stand for code points outside printable ASCII in the string
// given to zxcvbn. zxcvbn-go mixes byte offsets (sequence, keyboard, repeat,
// date matchers and the scorer) with rune offsets (dictionary matcher), which
// only agree when every code point is one byte; on "ЖЖЖЖЖЖЖЖЖЖ" it would
// count 20 brute-force characters and miss the repetition. ASCII control
// characters are one byte each, are in no dictionary, keyboard or sequence,
// count as symbols for brute force, and compare equal only to themselves, so
// repetitions of the same foreign character are still caught. The
// whitespace controls 0x09–0x0D are left out because the date matcher takes
// them as separators.
const placeholders = "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"

// runeMapper gives each distinct foreign code point its own placeholder, in
// order of first appearance (wrapping after 26: a password with more distinct
// foreign characters than that is strong anyway).
type runeMapper map[rune]byte

func newRuneMapper() runeMapper { return runeMapper{} }

// estimateInput is the string zxcvbn sees: folded, one byte per code point,
// at most maxEstimateLen long.
func (m runeMapper) estimateInput(pw string) string {
	var b strings.Builder
	n := 0
	for _, r := range fold(pw) {
		if n == maxEstimateLen {
			break
		}
		n++
		if r >= 0x20 && r < 0x7f {
			b.WriteByte(byte(r))
			continue
		}
		c, ok := m[r]
		if !ok {
			c = placeholders[len(m)%len(placeholders)]
			m[r] = c
		}
		b.WriteByte(c)
	}
	return b.String()
}

// mapInput rewrites a user input like the password, so the dictionary matcher
// compares like with like. Foreign code points absent from the password keep
// their UTF-8 form: they cannot match anyway.
func (m runeMapper) mapInput(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(fold(s)) {
		if c, ok := m[r]; ok {
			b.WriteByte(c)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// buildInputs returns the set of the person's own words (to tell their
// matches apart) and the dictionary given to zxcvbn: the person's words
// first, ranked as the likeliest guesses, then the Italian list. Each input
// is also split at punctuation and spaces ("mario.rossi" gives "mario",
// "rossi" and "mariorossi"), because people reuse the parts.
func buildInputs(m runeMapper, userInputs []string) (map[string]bool, []string) {
	personal := map[string]bool{}
	var dict []string
	add := func(w string) {
		// Three letters is a real name (Ugo, Eva); three digits is mostly
		// noise ("123" in a phone number) that would blame the person's data
		// for a plain sequence, so digit groups need four (a year, a block
		// of the phone number).
		minLen := 3
		if strings.Trim(w, "0123456789") == "" {
			minLen = 4
		}
		if utf8.RuneCountInString(w) < minLen || personal[w] {
			return
		}
		personal[w] = true
		dict = append(dict, w)
	}
	for _, in := range userInputs {
		w := m.mapInput(Normalize(in))
		add(w)
		parts := strings.FieldsFunc(w, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})
		if len(parts) > 1 {
			for _, p := range parts {
				add(p)
			}
			// Every tail of the joined parts: "393331234567" and the
			// national "3331234567" from "+39 333 1234567".
			for i := range len(parts) - 1 {
				add(strings.Join(parts[i:], ""))
			}
		}
	}
	// buildRankedDict keeps the last rank of a duplicate, so an Italian word
	// that is also the person's name must not be appended again.
	for _, w := range italianWords {
		if !personal[w] {
			dict = append(dict, w)
		}
	}
	return personal, dict
}

// fixMatches repairs zxcvbn-go's date matches before scoring: they leave
// Pattern empty (so the scorer drops them from the match sequence) and set J
// one past the end; the matcher without separators also stores the whole
// password as Token.
func fixMatches(est string, matches []match.Match) {
	for k := range matches {
		mt := &matches[k]
		if mt.Pattern == "" && mt.DictionaryName == "date_match" && mt.J > mt.I && mt.J <= len(est) {
			mt.Pattern = "date"
			mt.J--
			mt.Token = est[mt.I : mt.J+1]
		}
	}
}

type spanKey struct {
	pattern, dict, token string
	i, j                 int
}

// reason picks the explanation for a refused password. The person's own data
// comes first whatever else is there: it is the first thing an attacker who
// knows them tries, and generic advice would not make them notice it.
// Otherwise the weakest match of zxcvbn's sequence, the one with the fewest
// bits per character, decides; when it is a dictionary hit such as
// "qwertyuiop" that is mostly also a keyboard walk, sequence, repetition or
// date, that pattern is named instead, because it tells the user why the
// password is predictable.
func reason(seq, raw []match.Match, personal map[string]bool) string {
	// The scorer overwrites each chosen match's Entropy with the running
	// total, so the match's own entropy is looked up among the raw matches.
	own := map[spanKey]float64{}
	for _, mt := range raw {
		k := spanKey{mt.Pattern, mt.DictionaryName, mt.Token, mt.I, mt.J}
		if e, ok := own[k]; !ok || mt.Entropy < e {
			own[k] = mt.Entropy
		}
	}

	var weakest *match.Match
	best := 0.0
	for k := range seq {
		mt := &seq[k]
		if mt.Pattern == "bruteforce" || mt.Pattern == "" {
			continue
		}
		if mt.Pattern == "dictionary" && mt.DictionaryName == "user_inputs" && personal[strings.ToLower(mt.Token)] {
			return reasonPersonal
		}
		e, ok := own[spanKey{mt.Pattern, mt.DictionaryName, mt.Token, mt.I, mt.J}]
		if !ok {
			e = mt.Entropy
		}
		perChar := e / float64(mt.J-mt.I+1)
		if weakest == nil || perChar < best {
			weakest, best = mt, perChar
		}
	}
	if weakest == nil {
		return reasonGeneric
	}
	pattern := weakest.Pattern
	if pattern == "dictionary" {
		if p := structuralOverlap(weakest, raw); p != "" {
			pattern = p
		}
	}
	switch pattern {
	case "dictionary":
		return reasonCommon
	case "repeat":
		return reasonRepeat
	case "sequence":
		return reasonSequence
	case "spatial":
		return reasonSpatial
	case "date":
		return reasonDate
	}
	return reasonGeneric
}

// structuralOverlap returns the pattern of a raw repetition, sequence, date or
// keyboard match covering at least half of w, or "". When several do, the
// earlier in that order wins: "1234567890" is both a sequence and the top
// row of the keyboard, and «1234» is the explanation people recognise.
func structuralOverlap(w *match.Match, raw []match.Match) string {
	covered := map[string]bool{}
	for _, mt := range raw {
		overlap := min(w.J, mt.J) - max(w.I, mt.I) + 1
		if 2*overlap >= w.J-w.I+1 {
			covered[mt.Pattern] = true
		}
	}
	for _, p := range []string{"repeat", "sequence", "date", "spatial"} {
		if covered[p] {
			return p
		}
	}
	return ""
}

// maxLeetVariants caps the rewritten copies of the password the l33t matcher
// may try. zxcvbn-go rewrites the whole password once per combination of
// substitutions present ("4" or "@" for a, "1", "!" or "|" for i, ...) and
// runs every dictionary over each copy: "4@8(3691!|07$5+%2{[<" repeated to 64
// characters allows thousands of copies and cost about a second per Check
// (5 s on 128), an easy way to burn the server's CPU from the password form. Real disguised words ("p@ssw0rd",
// "P@$$w0rd1!") need a handful of copies; a password mixing enough
// substitution symbols to exceed the cap is scored without the l33t matcher
// (the other matchers and brute force still apply).
const maxLeetVariants = 16

// leetVariants returns an upper bound of the copies zxcvbn-go's l33t matcher
// would make of est: the product, over the letters of its substitution
// table, of how many of that letter's substitutes occur in est, doubled (or
// more) for each substitute shared by several letters ("1" is i or l).
func leetVariants(est string) int {
	owners := map[string]int{}
	n := 1
	for _, subs := range adjacency.GraphMap["l33t"].Graph {
		k := 0
		for _, s := range subs {
			if strings.Contains(est, s) {
				k++
				owners[s]++
			}
		}
		n = min(n*max(k, 1), 1<<20)
	}
	for _, c := range owners {
		n = min(n*c, 1<<20)
	}
	return n
}
