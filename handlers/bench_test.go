package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"fse/db"
)

// benchPDF is a valid PDF of about size bytes: a real report padded with a
// comment block, so the PDF check passes.
func benchPDF(b *testing.B, size int) []byte {
	b.Helper()
	pdf := samplePDF(b, "Referto voluminoso")
	pad := bytes.Repeat([]byte("% fse benchmark padding line ...........................\n"), size/57)
	i := bytes.IndexByte(pdf, '\n') + 1
	out := append(append(append([]byte{}, pdf[:i]...), pad...), pdf[i:]...)
	return out
}

type discardResponse struct{ h http.Header }

func (d *discardResponse) Header() http.Header         { return d.h }
func (d *discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardResponse) WriteHeader(int)             {}

// BenchmarkUpload20MiB measures a 20 MiB report going through the whole
// upload path (multipart, PDF check, encryption, 64 KiB SQLite chunks).
// B/op far below 20 MiB shows the file is never buffered whole.
func BenchmarkUpload20MiB(b *testing.B) {
	a := newApp(b)
	a.h.Config.UploadLimit = 21 << 20
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	pdf := benchPDF(b, 20<<20)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("title", "Referto voluminoso")
	w, _ := mw.CreateFormFile("file", "grande.pdf")
	w.Write(pdf)
	mw.Close()
	raw := body.Bytes()
	b.SetBytes(int64(len(pdf)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/desk/visits/%d/documents", visitID), bytes.NewReader(raw))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		for _, ck := range c.cookies {
			req.AddCookie(ck)
		}
		rec := &discardResponse{h: http.Header{}}
		a.e.ServeHTTP(rec, req)
	}
}

// BenchmarkDownload20MiB measures streaming a 20 MiB report back
// (chunk reads, decryption, response writes).
func BenchmarkDownload20MiB(b *testing.B) {
	a := newApp(b)
	a.h.Config.UploadLimit = 21 << 20
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	pdf := benchPDF(b, 20<<20)
	if rec := c.upload(visitID, file{"Referto voluminoso", "grande.pdf", pdf}); rec.Code != http.StatusSeeOther {
		b.Fatalf("upload: %d", rec.Code)
	}
	docs, _ := a.db.VisitDocuments(context.Background(), visitID)
	target := fmt.Sprintf("/desk/documents/%d/file", docs[0].ID)
	b.SetBytes(int64(len(pdf)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		for _, ck := range c.cookies {
			req.AddCookie(ck)
		}
		a.e.ServeHTTP(&discardResponse{h: http.Header{}}, req)
	}
}

// BenchmarkDossierPage measures the patient's most visited page: the
// dossier with its 20 reports, through the whole middleware stack (session
// load, CSP, templ rendering).
func BenchmarkDossierPage(b *testing.B) {
	a := newApp(b)
	visitID, code, _ := a.publishedVisit()
	c := a.register("Mario", "Rossi", "333 1234567", "")
	c.activate(rossiCF, code)
	// Twenty reports, as a patient with a long series of exams has.
	pdf := samplePDF(b, "Esami")
	desk := db.Actor{Kind: db.ActorStaff, ID: a.deskID}
	for i := range 19 {
		if _, err := a.db.StoreDocument(context.Background(), visitID, fmt.Sprintf("Esame %d", i), bytes.NewReader(pdf), desk, a.Now()); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := a.db.PublishVisit(context.Background(), visitID, 60*24*time.Hour, db.Notice{}, desk, a.Now()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest(http.MethodGet, "/fascicolo", nil)
		for _, ck := range c.cookies {
			req.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		a.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkDeskSearch measures the receptionist's search over a registry
// of 5,000 patients.
func BenchmarkDeskSearch(b *testing.B) {
	a := newApp(b)
	ctx := context.Background()
	desk := a.deskClient()
	for i := range 5000 {
		// Registry rows for load only: unique 16-character keys, not valid codici fiscali.
		p := db.Patient{FiscalCode: fmt.Sprintf("BNCLRA80A41F%04d", i), FirstName: "Laura",
			LastName: fmt.Sprintf("Bianchi%04d", i), BirthDate: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), BirthPlace: "Milano",
			Sex: "F", Mobile: fmt.Sprintf("+39333%07d", i)}
		if _, err := a.db.Accept(ctx, db.Acceptance{Patient: p, FacilityID: a.facilityID, Exams: []string{"Emocromo"}, OnlineDeclined: true},
			db.Actor{Kind: "staff", ID: a.deskID}, a.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest(http.MethodGet, "/desk?q=Bianchi12", nil)
		for _, ck := range desk.cookies {
			req.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		a.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
