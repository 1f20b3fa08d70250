package hotfolder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
)

// maxSidecarSize bounds what is read from a sidecar: a few fields of JSON.
const maxSidecarSize = 64 << 10

// Reasons written to failed/NAME.txt. They are read by whoever looks after
// the clinic system that drops the files, so they say what to do, Italian
// first and then English, and are kept together for that reason.
const (
	reasonBadName = "Nome del file non valido: usare NUMEROACCETTAZIONE__Titolo.pdf (es. MN-2026-00042__Esami del sangue.pdf). " +
		"/ Invalid file name: use ACCESSIONNUMBER__Title.pdf (e.g. MN-2026-00042__Esami del sangue.pdf)."
	reasonNotPDF = "Il file non è un PDF: sono accettati solo file .pdf, eventualmente con un file .json con lo stesso nome. " +
		"/ Not a PDF: only .pdf files are accepted, optionally with a .json file of the same name."
	reasonSymlink = "Il file è un collegamento simbolico, che non viene seguito: copiare il file vero e proprio. " +
		"/ The file is a symbolic link, which is not followed: copy the actual file."
	reasonNotRegular = "Non è un file normale (è un dispositivo, una pipe o simile). " +
		"/ Not a regular file (a device, a pipe or similar)."
)

// ignored reports whether a name in the folder is none of our business:
// hidden files and the temporary names that copy tools and browsers use
// while a file is still arriving.
func ignored(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(name, ".") ||
		strings.HasSuffix(lower, ".part") ||
		strings.HasSuffix(lower, ".tmp") ||
		strings.HasSuffix(lower, ".crdownload") ||
		strings.HasSuffix(name, "~")
}

// splitExt returns name's stem and extension ("a.b.PDF" -> "a.b", ".PDF").
func splitExt(name string) (stem, ext string) {
	ext = filepath.Ext(name)
	return strings.TrimSuffix(name, ext), ext
}

func isPDF(name string) bool {
	_, ext := splitExt(name)
	return strings.EqualFold(ext, ".pdf")
}

func isJSON(name string) bool {
	_, ext := splitExt(name)
	return strings.EqualFold(ext, ".json")
}

// typeReason returns why a file of this type cannot be taken, or "" for a
// regular file. Symlinks are refused rather than followed: they could point
// anywhere on the server.
func typeReason(info fs.FileInfo) string {
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		return reasonSymlink
	case !info.Mode().IsRegular():
		return reasonNotRegular
	}
	return ""
}

// parseName reads accession, title and report id from a PDF named
// ACCESSION__Title.pdf, or returns the reason the name is refused.
func parseName(name string) (File, string) {
	stem, _ := splitExt(name)
	accession, title, ok := strings.Cut(stem, "__")
	if !ok {
		return File{}, reasonBadName
	}
	accession, title = strings.TrimSpace(accession), strings.TrimSpace(title)
	if accession == "" {
		return File{}, "Manca il numero di accettazione prima di \"__\". " + reasonBadName
	}
	if title == "" {
		return File{}, "Manca il titolo dopo \"__\". " + reasonBadName
	}
	if hasControl(stem) {
		return File{}, "Il nome contiene caratteri non ammessi. " + reasonBadName
	}
	return File{Name: name, Accession: accession, Title: title, ReportID: stem}, ""
}

// sidecar is the JSON a sender may put next to NAME.pdf as NAME.json.
type sidecar struct {
	Accession string `json:"accession"`
	Title     string `json:"title"`
	ReportID  string `json:"report_id"`
	Publish   *bool  `json:"publish"`
}

// readSidecar reads the sidecar at path, which Lstat described as info, for
// the PDF pdfName. It returns the reason when the sidecar is unacceptable,
// and an error only when it could not be read at all (worth retrying).
func readSidecar(path string, info fs.FileInfo, pdfName string) (File, string, error) {
	sideName := filepath.Base(path)
	if r := typeReason(info); r != "" {
		return File{}, sideName + ": " + r, nil
	}
	if info.Size() > maxSidecarSize {
		return File{}, fmt.Sprintf("Il file %s è troppo grande per essere un file di descrizione (massimo %s). "+
			"/ %s is too large to be a description file (limit %s).",
			sideName, sizeIT(maxSidecarSize), sideName, sizeEN(maxSidecarSize)), nil
	}
	data, err := readSame(path, info, maxSidecarSize)
	if err != nil {
		return File{}, "", err
	}
	var s sidecar
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(&s)
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON object")
	}
	if err != nil {
		return File{}, fmt.Sprintf("Il file %s non è un JSON valido: usare "+
			"{\"accession\": \"...\", \"title\": \"...\", \"report_id\": \"...\", \"publish\": true}. "+
			"/ %s is not valid JSON: use the fields accession, title, report_id (optional), publish (optional). "+
			"(%v)", sideName, sideName, err), nil
	}
	f := File{
		Name:      pdfName,
		Accession: strings.TrimSpace(s.Accession),
		Title:     strings.TrimSpace(s.Title),
		ReportID:  strings.TrimSpace(s.ReportID),
		Publish:   s.Publish,
	}
	if f.ReportID == "" {
		f.ReportID, _ = splitExt(pdfName)
	}
	var missing []string
	if f.Accession == "" {
		missing = append(missing, "accession")
	}
	if f.Title == "" {
		missing = append(missing, "title")
	}
	if len(missing) > 0 {
		m := strings.Join(missing, ", ")
		return File{}, fmt.Sprintf("Nel file %s mancano i campi obbligatori: %s. "+
			"/ %s lacks required fields: %s.", sideName, m, sideName, m), nil
	}
	if hasControl(f.Accession) || hasControl(f.Title) || hasControl(f.ReportID) {
		return File{}, fmt.Sprintf("Il file %s contiene caratteri non ammessi. "+
			"/ %s contains characters that are not allowed.", sideName, sideName), nil
	}
	return f, "", nil
}

// readSame reads at most limit bytes of the file at path, making sure it is
// still the file that Lstat described as info (not swapped for a symlink).
func readSame(path string, info fs.FileInfo, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", filepath.Base(path), err)
	}
	defer fh.Close()
	got, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", filepath.Base(path), err)
	}
	if !os.SameFile(got, info) {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), errChanged)
	}
	data, err := io.ReadAll(io.LimitReader(fh, limit))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	return data, nil
}

func reasonTooLarge(size, limit int64) string {
	return fmt.Sprintf("Il file è troppo grande (%s; massimo %s). / The file is too large (%s; limit %s).",
		sizeIT(size), sizeIT(limit), sizeEN(size), sizeEN(limit))
}

func reasonNoPDF(sideName, pdfName string, waited time.Duration) string {
	it, en := fmt.Sprintf("%d secondi", int(waited.Seconds())), fmt.Sprintf("%d seconds", int(waited.Seconds()))
	if m := int(waited.Round(time.Minute) / time.Minute); m > 1 {
		it, en = fmt.Sprintf("%d minuti", m), fmt.Sprintf("%d minutes", m)
	}
	return fmt.Sprintf("Il file %s non è arrivato entro %s dal file %s. "+
		"/ %s did not arrive within %s of %s.", pdfName, it, sideName, pdfName, en, sideName)
}

// sizeEN formats a byte count for people: "20.0 MB", "512 byte".
func sizeEN(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d byte", n)
}

// sizeIT is sizeEN with the Italian decimal comma.
func sizeIT(n int64) string { return strings.Replace(sizeEN(n), ".", ",", 1) }

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
