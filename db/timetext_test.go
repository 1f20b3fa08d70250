package db

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestTimeTextReadsWhatTheDriverReads checks that a time column read as
// text and parsed by timeText gives the very time.Time the driver gives
// when it parses the column itself, for every way a time is written.
func TestTimeTextReadsWhatTheDriverReads(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "fse.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.w.ExecContext(ctx, `CREATE TABLE times(id INTEGER PRIMARY KEY, at DATETIME)`); err != nil {
		t.Fatal(err)
	}
	values := []any{
		time.Date(2026, time.March, 10, 9, 30, 0, 0, time.UTC),
		time.Date(2026, time.March, 10, 9, 30, 1, 123456789, time.UTC),
		time.Date(2026, time.July, 1, 23, 59, 59, 0, Rome),
		"2026-03-10 09:30:00", // written by SQL's datetime()
		"2026-03-10",
		"2026-03-10T09:30:00.123Z", // written by strftime('%Y-%m-%dT%H:%M:%fZ')
		nil,
	}
	for i, v := range values {
		if _, err := d.w.ExecContext(ctx, `INSERT INTO times(id, at) VALUES (?, ?)`, i, v); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range values {
		var want, got time.Time
		var driver *time.Time
		if err := d.r.QueryRowContext(ctx, `SELECT at FROM times WHERE id = ?`, i).Scan(&driver); err != nil {
			t.Fatalf("%v: driver scan: %v", v, err)
		}
		if driver != nil {
			want = *driver
		}
		if err := d.r.QueryRowContext(ctx, `SELECT `+asText("at")+` FROM times WHERE id = ?`, i).Scan(timeText{&got}); err != nil {
			t.Fatalf("%v: timeText scan: %v", v, err)
		}
		if !got.Equal(want) || got.Location().String() != want.Location().String() {
			t.Errorf("%v: timeText = %v (%v), driver = %v (%v)", v, got, got.Location(), want, want.Location())
		}
	}
	var got time.Time
	if err := (timeText{&got}).Scan("not a time"); err == nil {
		t.Error("timeText accepted text that is not a time")
	}
}
