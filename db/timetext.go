package db

import (
	"fmt"
	"strings"
	"time"
)

// Times are stored as text in the driver's "sqlite" layout. For a DATETIME
// column the driver first tries time.Time.String's layout, so every value
// read costs a failed and then a successful time.Parse: on a dossier page
// of 20 reports that was a tenth of the request. The queries of hot pages
// read their time columns with asText and scan them with timeText, which
// parses each value once.

// timeLayouts are the layouts the driver writes and accepts, the one it
// writes first.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// asText reads a time column as its stored text, so the driver leaves the
// parsing to timeText.
func asText(col string) string { return "CAST(" + col + " AS TEXT)" }

// timeText scans a time column read with asText; NULL gives the zero time.
type timeText struct{ t *time.Time }

func (s timeText) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case nil:
		*s.t = time.Time{}
		return nil
	case time.Time:
		*s.t = v
		return nil
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	// A trailing Z is UTC, as the driver reads it.
	text, _ = strings.CutSuffix(text, "Z")
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, text); err == nil {
			*s.t = t
			return nil
		}
	}
	return fmt.Errorf("scan time: %q is not a time", text)
}
