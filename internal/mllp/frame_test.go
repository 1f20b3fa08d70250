package mllp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

const testMessage = "MSH|^~\\&|LIS|LABMN|FSE|POLIMN|20260312093015||ORU^R01|C1|P|2.5\rPID|1||RSSMRA80A01E897X^^^MEF^NNITA\r"

// frame wraps s in MLLP framing.
func frame(s string) string { return "\x0b" + s + "\x1c\x0d" }

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name        string
		input       string
		max         int
		want        []string // the messages read before want err
		wantSkipped []int
		wantErr     error
	}{
		{"one frame", frame(testMessage), 0, []string{testMessage}, []int{0}, io.EOF},
		{"two frames", frame("A") + frame("B"), 0, []string{"A", "B"}, []int{0, 0}, io.EOF},
		{"empty frame", frame(""), 0, []string{""}, []int{0}, io.EOF},
		{"garbage before the start block", "GET / HTTP/1.1\r\n\r\n" + frame("A"), 0, []string{"A"}, []int{14}, io.EOF},
		{"line breaks between frames are not garbage", frame("A") + "\r\n\n" + frame("B"), 0, []string{"A", "B"}, []int{0, 0}, io.EOF},
		{"end block without CR", "\x0bA\x1c\x0bB\x1c", 0, []string{"A", "B"}, []int{0, 0}, io.EOF},
		{"restart inside a frame", "\x0bMSH|partial\x0b" + testMessage + "\x1c\x0d", 0, []string{testMessage}, []int{11}, io.EOF},
		{"exactly the limit", frame("12345"), 5, []string{"12345"}, []int{0}, io.EOF},
		{"over the limit", frame("123456"), 5, nil, nil, &FrameTooLargeError{Limit: 5}},
		{"garbage over the limit", strings.Repeat("x", 20) + frame("A"), 5, nil, nil, ErrNoStartBlock},
		{"input ends inside a frame", "\x0bMSH|^~\\&|LIS", 0, nil, nil, io.ErrUnexpectedEOF},
		{"input ends after garbage", "garbage", 0, nil, nil, io.EOF},
		{"no input", "", 0, nil, nil, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// OneByteReader makes every frame cross bufio's buffer refills.
			for _, r := range []io.Reader{strings.NewReader(tt.input), iotest.OneByteReader(strings.NewReader(tt.input))} {
				br := bufio.NewReaderSize(r, 16)
				for i, want := range tt.want {
					got, skipped, err := ReadFrameSkipping(br, tt.max)
					if err != nil {
						t.Fatalf("frame %d: %v", i+1, err)
					}
					if string(got) != want {
						t.Fatalf("frame %d = %q, want %q", i+1, got, want)
					}
					if skipped != tt.wantSkipped[i] {
						t.Errorf("frame %d: skipped %d bytes, want %d", i+1, skipped, tt.wantSkipped[i])
					}
				}
				got, err := ReadFrame(br, tt.max)
				var tooLarge *FrameTooLargeError
				if errors.As(tt.wantErr, &tooLarge) {
					var gotTooLarge *FrameTooLargeError
					if !errors.As(err, &gotTooLarge) || gotTooLarge.Limit != tooLarge.Limit {
						t.Fatalf("error = %v, want a FrameTooLargeError with limit %d", err, tooLarge.Limit)
					}
				} else if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("ReadFrame returned %q with error %v", got, err)
				}
			}
		})
	}
}

func TestReadFrameLarge(t *testing.T) {
	// Larger than bufio's buffer many times over, as a report PDF is.
	big := strings.Repeat("QUJDREVGR0g=", 100_000)
	br := bufio.NewReader(strings.NewReader(frame(big)))
	got, err := ReadFrame(br, len(big))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != big {
		t.Fatalf("got %d bytes, want %d", len(got), len(big))
	}
}

func TestWriteFrame(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFrame(&buf, []byte(testMessage)); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), frame(testMessage); got != want {
		t.Errorf("WriteFrame wrote %q, want %q", got, want)
	}
	for _, bad := range []string{"a\x0bb", "a\x1cb"} {
		buf.Reset()
		if err := WriteFrame(&buf, []byte(bad)); !errors.Is(err, ErrControlByte) {
			t.Errorf("WriteFrame(%q) error = %v, want ErrControlByte", bad, err)
		}
		if buf.Len() != 0 {
			t.Errorf("WriteFrame(%q) wrote %q despite the error", bad, buf.Bytes())
		}
	}
	if err := WriteFrame(errWriter{}, []byte("A")); err == nil {
		t.Error("WriteFrame hid a write error")
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func FuzzReadFrame(f *testing.F) {
	for _, s := range []string{frame(testMessage), frame("A") + "\r\n" + frame("B"), "junk\x0bA\x0bB\x1c", "\x0b", "\x1c\x0d", ""} {
		f.Add([]byte(s), 64)
	}
	f.Fuzz(func(t *testing.T, input []byte, max int) {
		max = max%1024 + 1
		if max <= 0 {
			max += 1024
		}
		br := bufio.NewReaderSize(bytes.NewReader(input), 16)
		for i := 0; i <= len(input); i++ {
			msg, _, err := ReadFrameSkipping(br, max)
			if err != nil {
				return
			}
			if len(msg) > max || bytes.IndexByte(msg, StartBlock) >= 0 || bytes.IndexByte(msg, EndBlock) >= 0 {
				t.Fatalf("frame %q breaks the limit %d or holds framing bytes", msg, max)
			}
			// What was read must frame and read back unchanged.
			var buf bytes.Buffer
			if err := WriteFrame(&buf, msg); err != nil {
				t.Fatalf("WriteFrame: %v", err)
			}
			again, err := ReadFrame(bufio.NewReader(&buf), max)
			if err != nil || !bytes.Equal(again, msg) {
				t.Fatalf("round trip of %q gave %q, %v", msg, again, err)
			}
		}
	})
}
