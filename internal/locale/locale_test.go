package locale

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

func TestCatalogueLoads(t *testing.T) {
	if err := Err(); err != nil {
		t.Fatal(err)
	}
}

// Every message exists in every language, with the same plural forms and
// the same placeholders: a page never shows a patient "[[id]]" or falls
// back to another language.
func TestEveryMessageExistsInEveryLanguage(t *testing.T) {
	c := load()
	if c.err != nil {
		t.Fatal(c.err)
	}
	for _, l := range Langs {
		for _, other := range Langs {
			if l == other {
				continue
			}
			var missing []string
			for id, m := range c.ids[l] {
				o, ok := c.ids[other][id]
				if !ok {
					missing = append(missing, id)
					continue
				}
				if got, want := placeholders(o), placeholders(m); got != want {
					t.Errorf("%s: placeholders in %s are %q, in %s %q", id, other, got, l, want)
				}
				if (m.One == "") != (o.One == "") {
					t.Errorf("%s: plural forms differ between %s and %s", id, l, other)
				}
			}
			sort.Strings(missing)
			for _, id := range missing {
				t.Errorf("message %q is in the %s catalogue but missing in %s", id, l, other)
			}
		}
	}
}

func placeholders(m *i18n.Message) string {
	set := map[string]bool{}
	for _, s := range []string{m.One, m.Other} {
		for _, p := range placeholderRE.FindAllStringSubmatch(s, -1) {
			if p[1] != "Count" {
				set[p[1]] = true
			}
		}
	}
	var out []string
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// idRE matches a string literal that names a message: an area (a
// catalogue file's name) and the message's name within it.
var idRE = regexp.MustCompile(`"([a-z][a-z0-9_]*)\.([a-z0-9_]+(?:\.[a-z0-9_]+)*)"`)

// Every message ID the code names exists: the source of the portal (Go
// files and templates, tests aside) is searched for string literals of the
// form "area.name" whose area is a catalogue's.
func TestEveryMessageTheCodeNamesExists(t *testing.T) {
	c := load()
	areas := map[string]bool{}
	files, _ := fs.Glob(catalogFS, "catalog/*.toml")
	for _, f := range files {
		areas[strings.SplitN(filepath.Base(f), ".", 2)[0]] = true
	}
	root := filepath.Join("..", "..")
	seen := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bench") {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_templ.go") ||
			!(strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".templ") || strings.HasSuffix(name, ".js")) {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range idRE.FindAllStringSubmatch(string(src), -1) {
			if !areas[m[1]] {
				continue
			}
			seen++
			id := m[1] + "." + m[2]
			if _, ok := c.ids[Default][id]; !ok {
				t.Errorf("%s names message %q, which no catalogue defines", p, id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Fatal("no message ID found in the source: the search is broken")
	}
}

func TestAMessageDefinedTwiceIsRefused(t *testing.T) {
	fsys := fstest.MapFS{
		"catalog/a.it.toml": {Data: []byte("[x]\ny = \"uno\"\n")},
		"catalog/b.it.toml": {Data: []byte("[x]\ny = \"due\"\n")},
	}
	if c := readCatalog(fsys); c.err == nil || !strings.Contains(c.err.Error(), `"x.y"`) {
		t.Fatalf("err = %v, want a duplicate x.y", c.err)
	}
}

func TestPluralsFollowEachLanguage(t *testing.T) {
	fsys := fstest.MapFS{
		"catalog/a.it.toml": {Data: []byte("[a.reports]\none = \"{{.Count}} referto\"\nother = \"{{.Count}} referti\"\n")},
		"catalog/a.en.toml": {Data: []byte("[a.reports]\none = \"{{.Count}} report\"\nother = \"{{.Count}} reports\"\n")},
	}
	c := readCatalog(fsys)
	if c.err != nil {
		t.Fatal(c.err)
	}
	for _, tc := range []struct {
		l    Lang
		n    int
		want string
	}{{Italian, 1, "1 referto"}, {Italian, 0, "0 referti"}, {Italian, 2, "2 referti"}, {English, 1, "1 report"}, {English, 0, "0 reports"}} {
		if got := c.printers[tc.l].N("a.reports", tc.n); got != tc.want {
			t.Errorf("%s N(%d) = %q, want %q", tc.l, tc.n, got, tc.want)
		}
	}
}

func TestHTMLEscapesArgumentsButNotTheMessage(t *testing.T) {
	fsys := fstest.MapFS{"catalog/a.it.toml": {Data: []byte("[a]\nhi = \"<strong>Ciao</strong> {{.Name}}\"\n")}}
	c := readCatalog(fsys)
	if got, want := c.printers[Italian].HTML("a.hi", "Name", "<b>Eve</b>"), "<strong>Ciao</strong> &lt;b&gt;Eve&lt;/b&gt;"; got != want {
		t.Errorf("HTML = %q, want %q", got, want)
	}
}

func TestAMissingMessageShowsItsID(t *testing.T) {
	if got := For(English).T("common.no_such_message"); got != "[[common.no_such_message]]" {
		t.Errorf("got %q", got)
	}
}

func TestNegotiateFollowsTheBrowsersPreference(t *testing.T) {
	for header, want := range map[string]Lang{
		"":                          Italian,
		"en-GB,en;q=0.9":            English,
		"de-DE,de;q=0.9,en;q=0.8":   English,
		"it-IT,it;q=0.9,en;q=0.8":   Italian,
		"fr-FR,fr;q=0.9":            Italian,
		"en;q=0.5,it;q=0.9":         Italian,
		"not a header at all;;;q=x": Italian,
	} {
		if got := Negotiate(header); got != want {
			t.Errorf("Negotiate(%q) = %s, want %s", header, got, want)
		}
	}
}

func TestFromDefaultsToItalian(t *testing.T) {
	if From(context.Background()).Lang() != Italian {
		t.Fatal("a context without a language should print Italian")
	}
	if From(With(context.Background(), English)).T("common.skip_to_content") != "Skip to content" {
		t.Fatal("English context should print English")
	}
}

// Every message compiles to the fast path, and each renders exactly as
// go-i18n renders it, in every language, for counts 0, 1, 2 and 21.
func TestCompiledMessagesRenderAsGoI18nDoes(t *testing.T) {
	c := load()
	for _, l := range Langs {
		p := c.printers[l]
		for id, m := range c.ids[l] {
			if isStatic(m) {
				continue
			}
			if _, ok := p.compiled[id]; !ok {
				t.Errorf("%s %s does not compile: %q", l, id, m.Other)
				continue
			}
			args := []any{}
			data := map[string]any{}
			for _, name := range strings.Split(placeholders(m), ",") {
				if name != "" {
					args = append(args, name, "<"+name+">")
					data[name] = "<" + name + ">"
				}
			}
			counts := []any{nil}
			if m.One != "" {
				counts = []any{0, 1, 2, 21}
			}
			for _, n := range counts {
				d := map[string]any{}
				for k, v := range data {
					d[k] = v
				}
				if n != nil {
					d["Count"] = n
				}
				want, err := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: n})
				if err != nil {
					t.Fatalf("%s %s: %v", l, id, err)
				}
				got := p.localize(id, n, args)
				if got != want {
					t.Errorf("%s %s (count %v): compiled %q, go-i18n %q", l, id, n, got, want)
				}
			}
		}
	}
}

// Markup in a message quotes its attributes, so that an argument placed
// in one (a URL) stays inside it once escaped.
func TestMessageMarkupQuotesItsAttributes(t *testing.T) {
	unquoted := regexp.MustCompile(`<[a-z]+[^>]*\s[a-z-]+=[^"\s>]`)
	for _, l := range Langs {
		for id, m := range load().ids[l] {
			for _, s := range []string{m.One, m.Other} {
				if unquoted.MatchString(s) {
					t.Errorf("%s %s: an unquoted attribute in %q", l, id, s)
				}
			}
		}
	}
}
