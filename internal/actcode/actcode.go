// Package actcode makes the activation codes printed on pickup slips: easy to
// read aloud and type on a phone, and strong enough to resist guessing.
package actcode

import (
	"crypto/rand"
	"math/big"
	"strings"
)

// Alphabet has no 0/O, 1/I/L or U (U reads like V): 30 symbols, ~4.9 bits each.
const Alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

// Length is 12 symbols: 12 * log2(30) ≈ 58.9 bits of entropy.
const Length = 12

// New returns a fresh code from crypto/rand, formatted in groups of 4 ("ABCD-EFGH-JKMN").
func New() string {
	var b strings.Builder
	n := big.NewInt(int64(len(Alphabet)))
	for i := range Length {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			// crypto/rand does not fail on supported platforms.
			panic(err)
		}
		b.WriteByte(Alphabet[k.Int64()])
	}
	return b.String()
}

// Normalize turns what a patient typed into the canonical form the MAC is
// computed on: uppercase, no spaces, dots or dashes, and U read as V (the
// only excluded letter with a single look-alike in the alphabet).
func Normalize(typed string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == ' ' || r == '-' || r == '.' || r == '\t':
			continue
		case r == 'U':
			r = 'V'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Valid reports whether a normalized code has the right length and alphabet.
func Valid(normalized string) bool {
	if len(normalized) != Length {
		return false
	}
	for _, r := range normalized {
		if !strings.ContainsRune(Alphabet, r) {
			return false
		}
	}
	return true
}
