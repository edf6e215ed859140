package idbstore

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Records are encoded compactly: a format version byte, then fields in a fixed
// order as uvarints, varints, fixed-size byte arrays and length-prefixed byte
// strings. A later format bumps the version byte and keeps decoding the old.
const recordV1 = 1

// errCorrupt is wrapped by every decode failure.
var errCorrupt = errors.New("corrupt record")

type encoder struct{ b []byte }

func newEncoder(sizeHint int) *encoder {
	e := &encoder{b: make([]byte, 0, sizeHint+1)}
	e.b = append(e.b, recordV1)
	return e
}

func (e *encoder) uvarint(v uint64) *encoder { e.b = binary.AppendUvarint(e.b, v); return e }
func (e *encoder) varint(v int64) *encoder   { e.b = binary.AppendVarint(e.b, v); return e }
func (e *encoder) fixed(p []byte) *encoder   { e.b = append(e.b, p...); return e }
func (e *encoder) bytes(p []byte) *encoder {
	e.uvarint(uint64(len(p)))
	e.b = append(e.b, p...)
	return e
}
func (e *encoder) str(s string) *encoder {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
	return e
}
func (e *encoder) boolean(v bool) *encoder {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
	return e
}

// nullable keeps the difference between a nil slice (SQL NULL) and an empty one.
func (e *encoder) nullable(p []byte) *encoder {
	if p == nil {
		return e.boolean(false)
	}
	return e.boolean(true).bytes(p)
}

func (e *encoder) done() []byte { return e.b }

// decoder reads what encoder wrote; the first problem sticks in err.
type decoder struct {
	b   []byte
	err error
}

func newDecoder(p []byte) *decoder {
	d := &decoder{b: p}
	if len(p) == 0 {
		d.err = fmt.Errorf("%w: empty value", errCorrupt)
	} else if p[0] != recordV1 {
		d.err = fmt.Errorf("%w: unknown format version %d", errCorrupt, p[0])
	} else {
		d.b = p[1:]
	}
	return d
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or invalid %s", errCorrupt, what)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// fixed returns a copy of the next n bytes.
func (d *decoder) fixed(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail(fmt.Sprintf("%d-byte field", n))
		return nil
	}
	out := make([]byte, n)
	copy(out, d.b)
	d.b = d.b[n:]
	return out
}

// length reads the length prefix of a byte string, checked against what is
// left of the input; ok is false once decoding has failed.
func (d *decoder) length() (n int, ok bool) {
	u := d.uvarint()
	if d.err != nil {
		return 0, false
	}
	if u > uint64(len(d.b)) {
		d.fail("byte string length")
		return 0, false
	}
	return int(u), true
}

func (d *decoder) bytes() []byte {
	n, ok := d.length()
	if !ok {
		return nil
	}
	return d.fixed(n)
}

func (d *decoder) str() string { return string(d.bytes()) }

// substr is str without a copy: whole is the decoder's input as a string,
// and the result is a substring of it.
func (d *decoder) substr(whole string) string {
	n, ok := d.length()
	if !ok {
		return ""
	}
	off := len(whole) - len(d.b)
	d.b = d.b[n:]
	return whole[off : off+n]
}

func (d *decoder) boolean() bool {
	if d.err != nil {
		return false
	}
	if len(d.b) < 1 || d.b[0] > 1 {
		d.fail("bool")
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

func (d *decoder) nullable() []byte {
	if !d.boolean() {
		return nil
	}
	return d.bytes()
}

// finish reports the first error, or trailing garbage, naming table and key.
func (d *decoder) finish(table, key string) error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b))
	}
	if d.err != nil {
		return decodeError(table, key, d.err)
	}
	return nil
}

// finishAfter is finish for a record whose last n bytes the caller reads
// itself: it fails unless exactly n bytes remain.
func (d *decoder) finishAfter(n int, table, key string) error {
	if d.err == nil && len(d.b) != n {
		d.err = fmt.Errorf("%w: %d bytes left, want %d", errCorrupt, len(d.b), n)
	}
	return d.finish0(table, key)
}

// finish0 reports the first error, naming table and key.
func (d *decoder) finish0(table, key string) error {
	if d.err != nil {
		return decodeError(table, key, d.err)
	}
	return nil
}

func decodeError(table, key string, err error) error {
	return &CorruptError{Table: table, Key: key, Err: err}
}
