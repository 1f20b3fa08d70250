package hl7

import (
	"strings"
	"testing"
)

func TestUnescapeText(t *testing.T) {
	d := StandardDelimiters()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "Glucosio 92 mg/dL", "Glucosio 92 mg/dL"},
		{"delimiters", `a\F\b\S\c\T\d\R\e\E\f`, `a|b^c&d~e\f`},
		{"line break", `prima\.br\seconda`, "prima\nseconda"},
		{"hex", `\X41C3A8\`, "Aè"},
		{"lower-case hex", `\X0d0a\`, "\r\n"},
		{"odd hex kept", `\X414\`, `\X414\`},
		{"bad hex kept", `\XZZ\`, `\XZZ\`},
		{"empty hex kept", `\X\`, `\X\`},
		{"unknown kept", `\Zlocale\ \H\evidenziato\N\`, `\Zlocale\ \H\evidenziato\N\`},
		{"other formatting kept", `\.sp2\`, `\.sp2\`},
		{"truncation undeclared kept", `\P\`, `\P\`},
		{"unterminated kept", `C:\referti`, `C:\referti`},
		{"double escape kept", `a\\b`, `a\\b`},
		{"escape at end", `fine\`, `fine\`},
		{"adjacent sequences", `\F\\S\`, `|^`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := d.UnescapeText(tt.in); got != tt.want {
				t.Errorf("UnescapeText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEscapeText(t *testing.T) {
	d := StandardDelimiters()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "Messaggio accettato", "Messaggio accettato"},
		{"delimiters", `a|b^c&d~e\f`, `a\F\b\S\c\T\d\R\e\E\f`},
		{"LF", "riga 1\nriga 2", `riga 1\.br\riga 2`},
		{"CRLF", "riga 1\r\nriga 2", `riga 1\.br\riga 2`},
		{"lone CR", "a\rb", `a\X0D\b`},
		{"MLLP framing bytes", "a\x0bb\x1cc", `a\X0B\b\X1C\c`},
		{"tab kept", "a\tb", "a\tb"},
		{"non-ASCII kept", "esame già eseguito", "esame già eseguito"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.EscapeText(tt.in)
			if got != tt.want {
				t.Errorf("EscapeText(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if back, want := d.UnescapeText(got), strings.ReplaceAll(tt.in, "\r\n", "\n"); back != want {
				t.Errorf("UnescapeText(EscapeText(%q)) = %q, want %q", tt.in, back, want)
			}
		})
	}
}

func TestEscapeWithTruncation(t *testing.T) {
	d := StandardDelimiters()
	d.Truncation = '#'
	if got, want := d.EscapeText("n. 5#"), `n. 5\P\`; got != want {
		t.Errorf("EscapeText = %q, want %q", got, want)
	}
	if got, want := d.UnescapeText(`n. 5\P\`), "n. 5#"; got != want {
		t.Errorf("UnescapeText = %q, want %q", got, want)
	}
}
