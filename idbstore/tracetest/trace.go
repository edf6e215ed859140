package tracetest

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
)

// Format and Version name the trace file format; Version changes whenever a
// line's meaning changes, so that an old trace is refused instead of misread.
const (
	Format  = "wasmeow-store-trace"
	Version = 1
)

// Header is the first line of a trace file.
type Header struct {
	Format    string `json:"format"`
	Version   int    `json:"version"`
	Seed      uint64 `json:"seed"`
	Calls     int    `json:"calls"`
	Reference string `json:"reference"`
	Slots     []Slot `json:"slots"`
}

// Slot is one device of the trace: the session-specific calls name it by
// index ("dev"), so several devices live side by side in one container.
type Slot struct {
	JID string `json:"jid"`
	LID string `json:"lid"`
}

// Line is one recorded call: the method, the device slot it ran on (-1 for
// container and global calls), its arguments, its canonical result and its
// error text ("" when it succeeded).
type Line struct {
	N    int             `json:"n"`
	Op   string          `json:"op"`
	Dev  int             `json:"dev"`
	Args json.RawMessage `json:"args"`
	Res  json.RawMessage `json:"res"`
	Err  string          `json:"err,omitempty"`

	// LineNo is the line of the file this call was read from.
	LineNo int `json:"-"`
}

// Bytes is a byte string written as hex in traces; nil is written as null so
// that "absent" and "empty" stay apart.
type Bytes []byte

func (b Bytes) MarshalJSON() ([]byte, error) {
	if b == nil {
		return []byte("null"), nil
	}
	return json.Marshal(hex.EncodeToString(b))
}

func (b *Bytes) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		*b = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("bytes: %w", err)
	}
	out, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("bytes %q: %w", s, err)
	}
	*b = out
	return nil
}

// Writer writes a trace: the header first, then one line per call.
type Writer struct {
	w   *bufio.Writer
	err error
}

// NewWriter writes h to w and returns a Writer for the calls.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	tw := &Writer{w: bufio.NewWriter(w)}
	h.Format, h.Version = Format, Version
	tw.put(h)
	return tw, tw.err
}

func (tw *Writer) put(v any) {
	if tw.err != nil {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		tw.err = fmt.Errorf("encode trace line: %w", err)
		return
	}
	data = append(data, '\n')
	if _, err = tw.w.Write(data); err != nil {
		tw.err = fmt.Errorf("write trace line: %w", err)
	}
}

// Write appends one call.
func (tw *Writer) Write(l Line) error {
	tw.put(l)
	return tw.err
}

// Close flushes buffered lines.
func (tw *Writer) Close() error {
	if tw.err != nil {
		return tw.err
	}
	return tw.w.Flush()
}

// Read parses a whole trace, checking its header.
func Read(r io.Reader) (Header, []Line, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var h Header
	var lines []Line
	lineNo := 0
	for sc.Scan() {
		lineNo++
		raw := sc.Bytes()
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		if lineNo == 1 {
			if err := json.Unmarshal(raw, &h); err != nil {
				return h, nil, fmt.Errorf("trace header: %w", err)
			}
			if h.Format != Format || h.Version != Version {
				return h, nil, fmt.Errorf("trace header: format %q version %d, want %q version %d", h.Format, h.Version, Format, Version)
			}
			continue
		}
		var l Line
		if err := json.Unmarshal(raw, &l); err != nil {
			return h, nil, fmt.Errorf("trace line %d: %w", lineNo, err)
		}
		l.LineNo = lineNo
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return h, nil, fmt.Errorf("read trace: %w", err)
	}
	if lineNo == 0 {
		return h, nil, fmt.Errorf("trace is empty")
	}
	return h, lines, nil
}
