package pdfcheck

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReaderPassesACompletePDFUnchanged(t *testing.T) {
	for _, size := range []int{0, 500, 5000, 200_000} {
		pdf := buildPDF(t, "1.7", size)
		if err := iotest.TestReader(NewReader(bytes.NewReader(pdf), int64(len(pdf))), pdf); err != nil {
			t.Errorf("padding %d: %v", size, err)
		}
		var got bytes.Buffer
		r := NewReader(iotest.OneByteReader(bytes.NewReader(pdf)), int64(len(pdf)))
		if _, err := io.Copy(&got, r); err != nil || !bytes.Equal(got.Bytes(), pdf) || r.Size() != int64(len(pdf)) {
			t.Errorf("padding %d, one byte at a time: err %v, %d bytes of %d", size, err, got.Len(), len(pdf))
		}
	}
}

func TestReaderRefusesBeforeHandingOutAByte(t *testing.T) {
	for name, data := range map[string][]byte{
		"html":  []byte("<!doctype html><script>alert(1)</script>"),
		"empty": nil,
		"short": []byte("%PDF"),
	} {
		r := NewReader(bytes.NewReader(data), 1<<20)
		n, err := r.Read(make([]byte, 4096))
		if n != 0 || !errors.Is(err, ErrNotPDF) {
			t.Errorf("%s: Read = %d, %v; want 0, ErrNotPDF", name, n, err)
		}
		if _, err := r.Read(make([]byte, 10)); !errors.Is(err, ErrNotPDF) {
			t.Errorf("%s: second Read = %v, want the same refusal", name, err)
		}
	}
}

func TestReaderReportsTruncationAtTheEnd(t *testing.T) {
	pdf := buildPDF(t, "1.7", 3000)
	_, err := io.Copy(io.Discard, NewReader(bytes.NewReader(pdf[:len(pdf)-40]), 1<<20))
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("copy of a cut PDF: %v, want ErrTruncated", err)
	}
}

func TestReaderStopsPastTheLimit(t *testing.T) {
	pdf := buildPDF(t, "1.7", 10_000)
	_, err := io.Copy(io.Discard, NewReader(bytes.NewReader(pdf), int64(len(pdf)-1)))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("copy one byte over the limit: %v, want ErrTooLarge", err)
	}
	if _, err := io.Copy(io.Discard, NewReader(bytes.NewReader(pdf), int64(len(pdf)))); err != nil {
		t.Errorf("copy exactly at the limit: %v", err)
	}
}

func TestReaderPassesOnReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	pdf := buildPDF(t, "1.7", 5000)
	r := NewReader(io.MultiReader(bytes.NewReader(pdf[:2000]), iotest.ErrReader(boom)), 1<<20)
	if _, err := io.Copy(io.Discard, r); !errors.Is(err, boom) {
		t.Errorf("copy with a failing body: %v, want the body's error", err)
	}
}
