package locale

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// A page prints dozens of messages with arguments (a date, a count), and
// go-i18n executes each through text/template, by reflection: a tenth of
// the dossier page's CPU. Messages whose placeholders are all plain
// {{.Name}} (every message today) are compiled once into literal and
// placeholder pieces per plural form; any other message still goes
// through go-i18n.

// piece is a literal, or the argument named arg.
type piece struct {
	lit, arg string
}

// compiled is a message's plural forms, by CLDR form.
type compiled map[plural.Form][]piece

var placeholderRE = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// compileText splits s into pieces; false when s holds template syntax
// other than {{.Name}}.
func compileText(s string) ([]piece, bool) {
	var out []piece
	last := 0
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(s, -1) {
		if m[0] > last {
			out = append(out, piece{lit: s[last:m[0]]})
		}
		out = append(out, piece{arg: s[m[2]:m[3]]})
		last = m[1]
	}
	if last < len(s) {
		out = append(out, piece{lit: s[last:]})
	}
	for _, p := range out {
		if p.arg == "" && strings.Contains(p.lit, "{{") {
			return nil, false
		}
	}
	return out, true
}

// compileMessage compiles every form of m, or says it cannot.
func compileMessage(m *i18n.Message) (compiled, bool) {
	c := compiled{}
	for form, text := range map[plural.Form]string{plural.Zero: m.Zero, plural.One: m.One, plural.Two: m.Two,
		plural.Few: m.Few, plural.Many: m.Many, plural.Other: m.Other} {
		if text == "" {
			continue
		}
		ps, ok := compileText(text)
		if !ok {
			return nil, false
		}
		c[form] = ps
	}
	return c, len(c) > 0
}

// render writes the form that fits count (Other without a count) with
// args, name-value pairs; Count is count.
func (c compiled) render(tag language.Tag, count any, args []any) (string, bool) {
	form := plural.Other
	if n, ok := count.(int); ok {
		abs := n
		if abs < 0 {
			abs = -abs
		}
		form = plural.Cardinal.MatchPlural(tag, abs, 0, 0, 0, 0)
	}
	pieces, ok := c[form]
	if !ok {
		if pieces, ok = c[plural.Other]; !ok {
			return "", false
		}
	}
	var b strings.Builder
	for _, p := range pieces {
		if p.arg == "" {
			b.WriteString(p.lit)
			continue
		}
		v, found := argValue(p.arg, count, args)
		if !found {
			b.WriteString("<no value>") // as text/template prints a missing key
			continue
		}
		switch v := v.(type) {
		case string:
			b.WriteString(v)
		case int:
			b.WriteString(strconv.Itoa(v))
		default:
			fmt.Fprint(&b, v)
		}
	}
	return b.String(), true
}

func argValue(name string, count any, args []any) (any, bool) {
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok && k == name {
			return args[i+1], true
		}
	}
	if name == "Count" && count != nil {
		return count, true
	}
	return nil, false
}
