package handlers

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/alexedwards/scs/v2"
)

// sessionCodec writes the session data scs stores in a compact binary form
// of its own instead of gob. scs encodes the whole session after every
// request and decodes it before: gob builds its type descriptions each
// time and was an eighth of the dossier page's CPU. The values fse keeps
// in a session are strings, integers, booleans and byte slices; a session
// holding anything else is written with gob, as are the sessions stored
// before this codec, which it still reads. Keys are written in order, so
// an unchanged session encodes to the same bytes and the store's "nothing
// changed" check (db.SessionStore) holds.
type sessionCodec struct{}

// sessionMagic starts the compact form. A gob stream never starts with a
// zero byte (a zero-length message), so the two cannot be confused.
var sessionMagic = []byte("\x00fs1")

// Value types of the compact form.
const (
	tagString = 's'
	tagInt64  = 'i'
	tagInt    = 'n'
	tagTrue   = 't'
	tagFalse  = 'f'
	tagBytes  = 'y'
)

var errSessionValue = errors.New("session value of a type the compact codec does not write")

func (sessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	b, err := encodeCompact(deadline, values)
	if errors.Is(err, errSessionValue) {
		return scs.GobCodec{}.Encode(deadline, values)
	}
	return b, err
}

func encodeCompact(deadline time.Time, values map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 64+32*len(keys))
	b = append(b, sessionMagic...)
	b = binary.AppendVarint(b, deadline.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendBytes(b, []byte(k))
		switch v := values[k].(type) {
		case string:
			b = appendBytes(append(b, tagString), []byte(v))
		case int64:
			b = binary.AppendVarint(append(b, tagInt64), v)
		case int:
			b = binary.AppendVarint(append(b, tagInt), int64(v))
		case bool:
			if v {
				b = append(b, tagTrue)
			} else {
				b = append(b, tagFalse)
			}
		case []byte:
			b = appendBytes(append(b, tagBytes), v)
		default:
			return nil, errSessionValue
		}
	}
	return b, nil
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

func (sessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if !bytes.HasPrefix(b, sessionMagic) {
		return scs.GobCodec{}.Decode(b)
	}
	d := compactReader{b: b[len(sessionMagic):]}
	deadline := time.Unix(0, d.varint())
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		return time.Time{}, nil, errBadSession
	}
	values := make(map[string]any, n)
	for range n {
		k := string(d.bytes())
		switch tag := d.byte(); tag {
		case tagString:
			values[k] = string(d.bytes())
		case tagInt64:
			values[k] = d.varint()
		case tagInt:
			values[k] = int(d.varint())
		case tagTrue, tagFalse:
			values[k] = tag == tagTrue
		case tagBytes:
			values[k] = bytes.Clone(d.bytes())
		default:
			d.err = errBadSession
		}
		if d.err != nil {
			return time.Time{}, nil, d.err
		}
	}
	if len(d.b) != 0 {
		return time.Time{}, nil, errBadSession
	}
	return deadline, values, nil
}

var errBadSession = errors.New("session data is damaged")

// compactReader reads the compact form, remembering the first error.
type compactReader struct {
	b   []byte
	err error
}

func (r *compactReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBadSession
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *compactReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadSession
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *compactReader) byte() byte {
	if len(r.b) == 0 {
		r.err = errBadSession
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *compactReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errBadSession
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}
