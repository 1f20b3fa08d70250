package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fse/handlers"
	"fse/internal/testkit"
	"fse/jobs"
)

// Tests of the portal on a full disk: /healthz says so before pages fail,
// admins are warned while there is still room, and an upload the disk
// cut short leaves nothing behind.

// healthBody is what /healthz answers.
type healthBody struct {
	Status   string   `json:"status"`
	Problems []string `json:"problems"`
}

// healthz asks /healthz as a load balancer does.
func (a *app) healthz() (int, healthBody) {
	a.t.Helper()
	rec := a.client().get("/healthz")
	var b healthBody
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		a.t.Fatalf("/healthz body %q: %v", rec.Body.String(), err)
	}
	return rec.Code, b
}

func TestHealthzIsDegradedWhileTheDatabaseCannotWrite(t *testing.T) {
	testkit.WatchDisks()
	a := newApp(t)
	disk := testkit.DiskOf(t, a.db)

	if code, b := a.healthz(); code != http.StatusOK || b.Status != "ok" || len(b.Problems) != 0 {
		t.Fatalf("/healthz with room = %d %+v, want 200 ok", code, b)
	}

	disk.Fill()
	a.advance(6 * time.Second) // past the reuse of the last probe's answer
	code, b := a.healthz()
	if code != http.StatusServiceUnavailable || b.Status != "degraded" {
		t.Errorf("/healthz on a full disk = %d %+v, want 503 degraded", code, b)
	}
	if len(b.Problems) != 1 || !strings.Contains(b.Problems[0], "write") {
		t.Errorf("problems = %q, want one about the database's writes", b.Problems)
	}
	if !strings.Contains(a.logs.String(), "the database cannot write") {
		t.Errorf("the failed write is not logged:\n%s", a.logs)
	}

	disk.Free()
	// A poller asking every second does not make a write each time: the
	// answer stands for a few seconds, then a new probe finds the room.
	if code, _ := a.healthz(); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz just after the disk was freed = %d, want the last answer (503) again", code)
	}
	a.advance(6 * time.Second)
	if code, b := a.healthz(); code != http.StatusOK || b.Status != "ok" || len(b.Problems) != 0 {
		t.Errorf("/healthz after the disk was freed = %d %+v, want 200 ok", code, b)
	}
}

func TestLowDiskDegradesHealthzAndWarnsAdmins(t *testing.T) {
	const gib = 1 << 30
	var free atomic.Uint64
	a := newAppWith(t, func(c *handlers.Config) {
		c.MinFreeSpace = gib
		c.FreeSpace = func(string) (uint64, error) { return free.Load(), nil }
	})
	admin, desk := a.adminClient(), a.deskClient()
	tests := []struct {
		name       string
		free       uint64
		wantStatus int
		wantHealth string
		wantBanner string // on every admin page; "" for none
	}{
		{"plenty of room", 10 * gib, http.StatusOK, "ok", ""},
		{"below twice the minimum", 3 * gib / 2, http.StatusOK, "ok",
			"Spazio su disco in esaurimento: restano 1,5 GB liberi sul disco del database."},
		{"below the minimum", gib / 2, http.StatusServiceUnavailable, "degraded",
			"Spazio su disco esaurito: restano 512 MB liberi sul disco del database, meno del minimo di 1 GB."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			free.Store(tt.free)
			code, b := a.healthz()
			if code != tt.wantStatus || b.Status != tt.wantHealth {
				t.Errorf("/healthz = %d %+v, want %d %s", code, b, tt.wantStatus, tt.wantHealth)
			}
			if tt.wantHealth == "degraded" && (len(b.Problems) != 1 || !strings.Contains(b.Problems[0], "free space")) {
				t.Errorf("problems = %q, want one about the free space", b.Problems)
			}
			for _, path := range []string{"/desk", "/desk/admin/settings", "/desk/admin/staff"} {
				banner := lowDiskBanner(t, admin, path)
				if tt.wantBanner == "" && banner != "" || !strings.Contains(banner, tt.wantBanner) {
					t.Errorf("admin page %s: banner %q, want %q", path, banner, tt.wantBanner)
				}
			}
			if banner := lowDiskBanner(t, desk, "/desk"); banner != "" {
				t.Errorf("a receptionist sees the disk warning %q: it is for admins", banner)
			}
		})
	}
}

// lowDiskBanner returns the text of the page's disk warning, "" if none;
// the warning must be an alert, so screen readers announce it.
func lowDiskBanner(t *testing.T, c *client, path string) string {
	t.Helper()
	rec := c.get(path)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, rec.Code)
	}
	sel := parseHTML(t, rec.Body.String()).Find("[data-testid=low-disk]")
	if sel.Length() == 0 {
		return ""
	}
	if role, _ := sel.Attr("role"); role != "alert" {
		t.Errorf("%s: the disk warning has role %q, want alert", path, role)
	}
	return strings.Join(strings.Fields(sel.Text()), " ")
}

// fillsTheDisk is a request body during which the disk fills up, once
// after bytes of it were read.
type fillsTheDisk struct {
	r     io.Reader
	after int
	disk  *testkit.Disk
}

func (f *fillsTheDisk) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.after -= n; f.after <= 0 {
		f.disk.Fill()
	}
	return n, err
}

func TestUploadCutShortByAFullDiskLeavesNoDraftAfterTheNextExpiry(t *testing.T) {
	testkit.WatchDisks()
	a := newApp(t)
	disk := testkit.DiskOf(t, a.db)
	desk := a.deskClient()
	visitID, _ := desk.accept(a.acceptForm())

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("title", "Esami del sangue")
	w, _ := mw.CreateFormFile("file", "referto.pdf")
	w.Write(repPDFOfSize(t, samplePDF(t, "Esami del sangue"), 600<<10))
	mw.Close()
	// The draft's row is written after the first 64 KiB; the disk is full
	// before its content is stored, and before it can be deleted.
	upload := &fillsTheDisk{r: &body, after: 200 << 10, disk: disk}
	rec := desk.do(http.MethodPost, fmt.Sprintf("/desk/visits/%d/documents", visitID), upload, mw.FormDataContentType())
	if rec.Code < 500 {
		t.Errorf("upload on a full disk: status %d, want a server error", rec.Code)
	}
	const drafts = `SELECT count(*) FROM documents WHERE visit_id = ? AND complete = 0`
	if got := authCount(t, a, drafts, visitID); got != 1 {
		t.Fatalf("after the upload: %d drafts, want the one the full disk could not discard", got)
	}

	disk.Free()
	a.advance(15 * time.Minute) // the next run of the expire job, not an hour later
	expire := jobs.Expire{DB: a.db, Now: a.Now, Log: a.logs.Logger()}
	if err := expire.RunOnce(context.Background()); err != nil {
		t.Fatalf("expire: %v", err)
	}
	if got := authCount(t, a, drafts, visitID); got != 0 {
		t.Errorf("after the expire job: %d drafts, want 0", got)
	}
	if got := authCount(t, a, `SELECT count(*) FROM document_chunks`); got != 0 {
		t.Errorf("after the expire job: %d chunks, want 0", got)
	}
	logs := a.logs.String()
	if !strings.Contains(logs, "failed_uploads=1") {
		t.Errorf("the expire job does not say it discarded the upload's draft:\n%s", logs)
	}
	if strings.Contains(logs, "Esami del sangue") || strings.Contains(logs, "Rossi") {
		t.Errorf("the log names the report or the patient:\n%s", logs)
	}
}
