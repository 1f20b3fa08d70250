package hotfolder

import (
	"strings"
	"testing"
	"time"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		name                       string
		accession, title, reportID string
		reason                     string // a fragment of the refusal, "" if valid
	}{
		{"MN-2026-00042__Esami del sangue.pdf", "MN-2026-00042", "Esami del sangue", "MN-2026-00042__Esami del sangue", ""},
		{"MN-1__Referto_cardiologico_finale.PDF", "MN-1", "Referto_cardiologico_finale", "MN-1__Referto_cardiologico_finale", ""},
		{"MN-1__Eco__addome.pdf", "MN-1", "Eco__addome", "MN-1__Eco__addome", ""},
		{"MN-1 __ Eco.Pdf", "MN-1", "Eco", "MN-1 __ Eco", ""},
		{"Esami del sangue.pdf", "", "", "", "Nome del file non valido"},
		{"MN-1_Esami.pdf", "", "", "", "Invalid file name"},
		{"__Esami.pdf", "", "", "", "Manca il numero di accettazione"},
		{" __Esami.pdf", "", "", "", "Manca il numero di accettazione"},
		{"MN-1__.pdf", "", "", "", "Manca il titolo"},
		{"MN-1__Esa\tmi.pdf", "", "", "", "caratteri non ammessi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, reason := parseName(tt.name)
			if tt.reason != "" {
				if !strings.Contains(reason, tt.reason) {
					t.Errorf("reason = %q, want it to contain %q", reason, tt.reason)
				}
				return
			}
			if reason != "" {
				t.Fatalf("refused: %s", reason)
			}
			if f.Accession != tt.accession || f.Title != tt.title || f.ReportID != tt.reportID || f.Name != tt.name {
				t.Errorf("got %+v, want accession %q title %q report id %q", f, tt.accession, tt.title, tt.reportID)
			}
		})
	}
}

func TestIgnored(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"MN-1__Eco.pdf", false},
		{"MN-1__Eco.json", false},
		{"notes.docx", false},
		{".MN-1__Eco.pdf", true},
		{".DS_Store", true},
		{"MN-1__Eco.pdf.part", true},
		{"MN-1__Eco.pdf.PART", true},
		{"MN-1__Eco.tmp", true},
		{"MN-1__Eco.pdf.crdownload", true},
		{"MN-1__Eco.pdf~", true},
	}
	for _, tt := range tests {
		if got := ignored(tt.name); got != tt.want {
			t.Errorf("ignored(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{1, time.Minute},
		{2, 2 * time.Minute},
		{3, 4 * time.Minute},
		{5, 16 * time.Minute},
		{6, 30 * time.Minute},
		{1000, 30 * time.Minute},
	}
	for _, tt := range tests {
		if got := retryDelay(tt.attempt); got != tt.want {
			t.Errorf("retryDelay(%d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		n      int64
		en, it string
	}{
		{512, "512 byte", "512 byte"},
		{1536, "1.5 KB", "1,5 KB"},
		{20 << 20, "20.0 MB", "20,0 MB"},
	}
	for _, tt := range tests {
		if got := sizeEN(tt.n); got != tt.en {
			t.Errorf("sizeEN(%d) = %q, want %q", tt.n, got, tt.en)
		}
		if got := sizeIT(tt.n); got != tt.it {
			t.Errorf("sizeIT(%d) = %q, want %q", tt.n, got, tt.it)
		}
	}
}
