package pwpolicy

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fse/internal/locale"
)

// Distinctive substrings of each reason, so the tests say which category a
// refusal belongs to without copying whole sentences.
const (
	wantShort    = "almeno 10 caratteri"
	wantLong     = "al massimo 128 caratteri"
	wantCommon   = "molto comune"
	wantPersonal = "dati personali"
	wantRepeat   = "ripetizioni"
	wantSequence = "sequenza (come «abcd»"
	wantSpatial  = "tasti vicini"
	wantDate     = "una data"
)

// reasonOf returns "" for nil and the reason of a *Problem; any other error
// fails the test, since callers show Reason to the user.
func reasonOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var p *Problem
	if !errors.As(err, &p) {
		t.Fatalf("error %v (%T) is not a *Problem", err, err)
	}
	if p.Error() != p.Reason {
		t.Fatalf("Error() = %q, Reason = %q", p.Error(), p.Reason)
	}
	return p.Reason
}

func TestCheckLength(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		want string // substring of the reason; "" means accepted
	}{
		{"9 characters", "abc123XYZ", wantShort},
		{"exactly 10 strong characters", "k9#Lw2!qZr", ""},
		{"128 characters", strings.Repeat("gatto verde mangia pizza tiepida ", 4)[:128], ""},
		{"129 characters", strings.Repeat("gatto verde mangia pizza tiepida ", 4)[:128] + "x", wantLong},
		{"huge input refused before normalising", strings.Repeat("x", 1<<20), wantLong},
		{"spaces allowed", "mi piace il mare d'estate", ""},
		{"leading and trailing spaces kept and allowed", "  cavallo pinguino  ", ""},
		{"Unicode sentence", "Però è già ora di cena!", ""},
		// 10 code points, 13 bytes: length is counted in code points.
		{"10 code points with accents", "Città è là", ""},
		// "e" + combining acute is two code points, NFKC makes it one "é":
		// 9 "é" plus "x" are 10 characters after normalisation, not 19.
		{"NFKC composes before counting", strings.Repeat("e\u0301", 9) + "x", wantRepeat},
		{"NFKC-composed 9 characters too short", strings.Repeat("e\u0301", 8) + "x", wantShort},
		{"empty", "", wantShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reasonOf(t, Check(tt.pw))
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("Check(%.40q) = %q, want reason containing %q", tt.pw, got, tt.want)
			}
		})
	}
	if got, want := utf8.RuneCountInString("Città è là"), 10; got != want {
		t.Errorf("test password has %d code points, want %d", got, want)
	}
	if got := len("Città è là"); got <= 10 {
		t.Errorf("test password has %d bytes, want more than 10 to show bytes are not counted", got)
	}
}

func TestCheckExactMessages(t *testing.T) {
	tests := []struct {
		pw, want string
	}{
		{"abc123XYZ", "La password deve avere almeno 10 caratteri."},
		{strings.Repeat("a", 129), "La password può avere al massimo 128 caratteri."},
	}
	for _, tt := range tests {
		if got := reasonOf(t, Check(tt.pw)); got != tt.want {
			t.Errorf("Check(%.20q) = %q, want %q", tt.pw, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"ｐａｓｓｗｏｒｄ１２３", "password123"}, // full-width keyboard / IME
		{"e\u0301", "é"},             // combining accent, as some phones send it
		{"ﬁore", "fiore"},            // ligature
		{"Però è già", "Però è già"}, // already normalised: unchanged
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckRefusals(t *testing.T) {
	tests := []struct {
		pw     string
		inputs []string
		want   string
	}{
		{"ｐａｓｓｗｏｒｄ１２３", nil, wantCommon}, // NFKC gives "password123"
		{"password123", nil, wantCommon},
		{"Password123", nil, wantCommon},
		{"p@ssw0rd123", nil, wantCommon},
		{"juventus2024", nil, wantCommon},
		{"forzanapoli", nil, wantCommon},
		{"referti2024", nil, wantCommon},
		{"giuseppe1958", nil, wantCommon},
		{"qwertyuiop", nil, wantSpatial},
		{"asdfghjkl1", nil, wantSpatial},
		{"aaaaaaaaaaaa", nil, wantRepeat},
		{"èèèèèèèèèè", nil, wantRepeat}, // accents do not hide a repetition
		{"ЖЖЖЖЖЖЖЖЖЖ", nil, wantRepeat}, // nor does another alphabet
		{"1234567890", nil, wantSequence},
		{"abcdefghijkl", nil, wantSequence},
		{"12/05/1985", nil, wantDate},
		{"mario.rossi1985", []string{"Mario", "Rossi", "1985"}, wantPersonal},
		{"Rossi12345678", []string{"Rossi"}, wantPersonal},
		{"nicolo.bianchi1", []string{"Nicolò", "Bianchi"}, wantPersonal},  // accents ignored
		{"mariarossi.it", []string{"mario", "maria.rossi"}, wantPersonal}, // email local part split
		{"chiamami3331234567", []string{"+39 333 1234567"}, wantPersonal},
		{"3331234567xy", []string{"+39 333 1234567"}, wantPersonal},                  // mobile digits
		{"Maria1234567", []string{"Maria"}, wantPersonal},                            // name also in the Italian list
		{"Maria1234567", nil, wantSequence},                                          // without personal data the digits are weakest
		{"password12345", []string{"+39 333 123 4567"}, wantCommon},                  // "123" of the phone is not blamed
		{"ciaociaociao", nil, wantCommon},                                            // "ciaociao" is in the list
		{"Mantova2024!", []string{"Giuseppe", "Verdi"}, wantCommon},                  // the portal's town
		{"OspedaleMantova", []string{"Anna", "Bianchi", "anna.bianchi"}, wantCommon}, // portal vocabulary
	}
	for _, tt := range tests {
		t.Run(tt.pw, func(t *testing.T) {
			got := reasonOf(t, Check(tt.pw, tt.inputs...))
			if !strings.Contains(got, tt.want) {
				t.Errorf("Check(%q, %q) = %q, want reason containing %q", tt.pw, tt.inputs, got, tt.want)
			}
		})
	}
}

func TestCheckAccepts(t *testing.T) {
	tests := []struct {
		pw     string
		inputs []string
	}{
		{"t7#Vq9!mZ2@pLx", nil},
		// Scored 4 by zxcvbn-go as is: no passphrase exception is needed.
		{"gatto verde mangia pizza tiepida", nil},
		// No composition rule: all lower case, no digit, no symbol.
		{"correct horse battery staple", nil},
		{"cavallo batteria graffetta corretta", nil},
		{"Però è già ora di cena!", nil},
		{"il mio gatto si chiama Fufi", []string{"Mario", "Rossi", "1985"}},
		{"Привет мир, как дела", nil},
		{"ほんとうにありがとうございます", nil},
	}
	for _, tt := range tests {
		t.Run(tt.pw, func(t *testing.T) {
			if got := reasonOf(t, Check(tt.pw, tt.inputs...)); got != "" {
				t.Errorf("Check(%q, %q) = %q, want accepted", tt.pw, tt.inputs, got)
			}
		})
	}
}

// leetHeavy mixes every l33t substitute, which makes zxcvbn-go's l33t matcher
// try thousands of rewritten copies of the password.
var leetHeavy = strings.Repeat("4@8(3691!|07$5+%2{[<", 7)[:MaxLength]

// worstUnderLeetCap has exactly maxLeetVariants l33t variants: the slowest
// input that still gets the l33t matcher.
var worstUnderLeetCap = strings.Repeat("4@69$5+1", 16)

func TestLeetVariantsCap(t *testing.T) {
	m := newRuneMapper()
	if got := leetVariants(m.estimateInput(leetHeavy)); got <= maxLeetVariants {
		t.Errorf("leetVariants(leetHeavy) = %d, want > %d", got, maxLeetVariants)
	}
	if got, want := leetVariants(m.estimateInput(worstUnderLeetCap)), maxLeetVariants; got != want {
		t.Errorf("leetVariants(worstUnderLeetCap) = %d, want %d", got, want)
	}
	if got, want := leetVariants("p@ssw0rd"), 1; got != want {
		t.Errorf("leetVariants(p@ssw0rd) = %d, want %d", got, want)
	}
	// Without the cap this took about 5 s (1 s with the 64-character
	// truncation alone); the bound is generous for slow or -race runs.
	start := time.Now()
	_ = Check(leetHeavy)
	if got, limit := time.Since(start), 500*time.Millisecond; got > limit {
		t.Errorf("Check(leetHeavy) took %v, want under %v", got, limit)
	}
}

func TestEstimateInputOneBytePerCodePoint(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Però è già", "Pero e gia"},
		{"ЖЖя", "\x01\x01\x02"},
		{"a\tb", "a\x01b"}, // a control character never becomes a date separator
		{strings.Repeat("x", 100), strings.Repeat("x", maxEstimateLen)},
	}
	for _, tt := range tests {
		if got := newRuneMapper().estimateInput(tt.in); got != tt.want {
			t.Errorf("estimateInput(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"password123", "Però è già ora di cena!", "12/05/1985", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6", leetHeavy} {
		f.Add(s, "Mario Rossi")
	}
	f.Fuzz(func(t *testing.T, pw, input string) {
		err := Check(pw, input)
		if err == nil {
			return
		}
		var p *Problem
		if !errors.As(err, &p) || p.Reason == "" {
			t.Fatalf("Check(%q) = %v, want nil or a *Problem with a reason", pw, err)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	cases := []struct {
		name, pw string
	}{
		{"common", "password123"},
		{"random14", "t7#Vq9!mZ2@pLx"},
		{"passphrase32", "gatto verde mangia pizza tiepida"},
		{"random128", strings.Repeat("t7#Vq9!mZ2@pLxK8", 8)},
		{"words128", strings.Repeat("gatto verde mangia pizza tiepida ", 4)[:MaxLength]},
		{"digits128", strings.Repeat("1985", 32)},
		{"leetHeavy128", leetHeavy},
		{"worstUnderLeetCap128", worstUnderLeetCap},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				_ = Check(c.pw, "Mario", "Rossi", "1985", "+39 333 1234567", "mario.rossi")
			}
		})
	}
}

// Staff passwords follow the patients' rule with two more characters:
// `password1234` was accepted for staff before the rule applied to them.
func TestCheckStaff(t *testing.T) {
	for _, tt := range []struct {
		pw     string
		inputs []string
		want   string // "" accepts
	}{
		{"password1234", nil, reasonCommon},
		{"abcdefghij1", nil, reasonStaffTooShort},
		{"dieci lett", nil, reasonStaffTooShort},
		{"laura.bianchi.2026", []string{"laura.bianchi", "Laura Bianchi"}, reasonPersonal},
		{"password-laboratorio-1", nil, ""},
		{"cavallo batteria graffetta", nil, ""},
	} {
		err := CheckStaff(tt.pw, tt.inputs...)
		var p *Problem
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckStaff(%q) = %v, want accepted", tt.pw, err)
		case tt.want != "" && (!errors.As(err, &p) || p.Reason != tt.want):
			t.Errorf("CheckStaff(%q) = %v, want %q", tt.pw, err, tt.want)
		case tt.want != "" && strings.Contains(p.English(), "refused by the password policy"):
			t.Errorf("CheckStaff(%q): no English text for %q", tt.pw, p.Reason)
		}
	}
}

func TestEveryReasonHasEnglish(t *testing.T) {
	for _, r := range []string{reasonTooShort, reasonStaffTooShort, reasonTooLong, reasonCommon, reasonPersonal,
		reasonRepeat, reasonSequence, reasonSpatial, reasonDate, reasonGeneric} {
		if english[r] == "" {
			t.Errorf("no English text for %q", r)
		}
	}
}

// Every reason a patient can be given exists in the catalogue: in Italian
// word for word, and in English without Italian words.
func TestEveryPatientReasonSpeaksBothLanguages(t *testing.T) {
	it, en := locale.For(locale.Italian), locale.For(locale.English)
	for _, r := range []string{reasonTooShort, reasonTooLong, reasonCommon, reasonPersonal,
		reasonRepeat, reasonSequence, reasonSpatial, reasonDate, reasonGeneric} {
		p := &Problem{Reason: r}
		if got := p.Message(it); got != r {
			t.Errorf("Italian message %q, want the reason %q", got, r)
		}
		got := p.Message(en)
		if got == r || strings.Contains(got, "[[") || strings.Contains(got, "password è") || strings.Contains(got, "facile") {
			t.Errorf("English message of %q is %q", r, got)
		}
	}
	if got := (&Problem{Reason: reasonStaffTooShort}).Message(en); got != reasonStaffTooShort {
		t.Errorf("staff reason in English = %q, want the Italian", got)
	}
}

// A refused password of the patient's own data is explained in English.
func TestCheckExplainsInEnglish(t *testing.T) {
	var p *Problem
	if err := Check("laura.bianchi.2026", "Laura", "Bianchi"); !errors.As(err, &p) {
		t.Fatalf("Check accepted the name, err = %v", err)
	}
	if got := p.Message(locale.For(locale.English)); !strings.Contains(got, "your name") {
		t.Errorf("English reason = %q", got)
	}
}
