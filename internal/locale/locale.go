// Package locale holds the portal's words in every language it speaks to
// patients (Italian, the default, and English) and picks the language of a
// request. The words live in message catalogues, one TOML file per area and
// language under catalog/ ("dossier.it.toml", "dossier.en.toml"), read with
// go-i18n, which also knows each language's plural rules. Templates and
// handlers never hold patient-facing words: they name a message by its ID
// ("dossier.title") and a Printer gives it in the request's language.
package locale

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Lang is a language the portal speaks: "it" or "en".
type Lang string

const (
	Italian Lang = "it"
	English Lang = "en"
)

// Default is the language of a request that asks for nothing else, and of
// the desk.
const Default = Italian

// Langs are the languages, the default first.
var Langs = []Lang{Italian, English}

// Parse returns the language a stored or submitted value names ("it",
// "en", case-insensitive), and false for anything else.
func Parse(s string) (Lang, bool) {
	switch Lang(strings.ToLower(strings.TrimSpace(s))) {
	case Italian:
		return Italian, true
	case English:
		return English, true
	}
	return Default, false
}

// Negotiate picks the language of an Accept-Language header: the first of
// the browser's languages, by preference, that the portal speaks (any
// English or Italian variant counts); Italian when it names neither.
func Negotiate(acceptLanguage string) Lang {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil {
		return Default
	}
	for _, t := range tags {
		base, _ := t.Base()
		if l, ok := Parse(base.String()); ok {
			return l
		}
	}
	return Default
}

// Name is the language's name in itself, for the switch link ("English",
// "Italiano").
func (l Lang) Name() string {
	if l == English {
		return "English"
	}
	return "Italiano"
}

//go:embed catalog/*.toml
var catalogFS embed.FS

// catalog is every message, loaded once on first use so that start-up
// does not pay for it.
type catalog struct {
	printers map[Lang]*Printer
	// ids are the message IDs of each language, for the tests.
	ids map[Lang]map[string]*i18n.Message
	err error
}

var (
	loadOnce sync.Once
	loaded   catalog
)

func load() *catalog {
	loadOnce.Do(func() { loaded = readCatalog(catalogFS) })
	return &loaded
}

// readCatalog parses every catalogue file of fsys. A message ID defined
// twice in one language is an error: the files split the words by area and
// an ID belongs to one of them.
func readCatalog(fsys fs.FS) catalog {
	bundle := i18n.NewBundle(language.Italian)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	c := catalog{printers: map[Lang]*Printer{}, ids: map[Lang]map[string]*i18n.Message{}}
	for _, l := range Langs {
		c.ids[l] = map[string]*i18n.Message{}
	}
	files, err := fs.Glob(fsys, "catalog/*.toml")
	if err != nil {
		c.err = err
		return c
	}
	sort.Strings(files)
	for _, name := range files {
		mf, err := bundle.LoadMessageFileFS(fsys, name)
		if err != nil {
			c.err = fmt.Errorf("catalogue %s: %w", name, err)
			return c
		}
		l, ok := Parse(mf.Tag.String())
		if !ok {
			c.err = fmt.Errorf("catalogue %s: language %q is not one the portal speaks", name, mf.Tag)
			return c
		}
		for _, m := range mf.Messages {
			if _, dup := c.ids[l][m.ID]; dup {
				c.err = fmt.Errorf("catalogue %s: message %q is already defined in another %s file", path.Base(name), m.ID, l)
				return c
			}
			c.ids[l][m.ID] = m
		}
	}
	for _, l := range Langs {
		p := &Printer{lang: l, tag: language.Make(string(l)), loc: i18n.NewLocalizer(bundle, string(l)),
			static: map[string]string{}, compiled: map[string]compiled{}}
		for id, m := range c.ids[l] {
			if isStatic(m) {
				p.static[id] = m.Other
			} else if cm, ok := compileMessage(m); ok {
				p.compiled[id] = cm
			}
		}
		c.printers[l] = p
	}
	return c
}

// isStatic is a message without plural forms or arguments: its text is
// served from a map, without go-i18n's template machinery.
func isStatic(m *i18n.Message) bool {
	return m.Zero == "" && m.One == "" && m.Two == "" && m.Few == "" && m.Many == "" &&
		!strings.Contains(m.Other, "{{")
}

// Err reports a catalogue that could not be read; the portal's start-up
// checks it so that a broken catalogue never reaches a patient.
func Err() error { return load().err }

// For returns the printer of a language (Italian for an unknown one).
func For(l Lang) *Printer {
	c := load()
	if p := c.printers[l]; p != nil {
		return p
	}
	if p := c.printers[Default]; p != nil {
		return p
	}
	return &Printer{lang: Default, static: map[string]string{}}
}
