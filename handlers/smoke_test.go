package handlers_test

import (
	"net/http"
	"testing"
)

func TestAcceptUploadPublishSmoke(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, code := c.accept(a.acceptForm())
	if code == "" {
		t.Fatal("no code")
	}
	rec := c.upload(visitID, file{"Esami del sangue", "referto.pdf", samplePDF(t, "Esami")})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("upload status %d: %s", rec.Code, rec.Body.String())
	}
}
