package qrsvg

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	svg, err := Render("https://referti.example.it/attiva#codice=ABCD-EFGH-JKMN", `Codice "QR"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", `viewBox="0 0 `, `aria-label="Codice &quot;QR&quot;"`, `<path d="M`} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %q", want)
		}
	}
	if strings.Contains(svg, "ABCD") {
		t.Error("the encoded content leaked into the SVG markup")
	}
}
