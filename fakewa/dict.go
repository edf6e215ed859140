//go:build !js

package fakewa

import (
	"errors"
	"fmt"

	"go.mau.fi/whatsmeow/binary/token"
)

// Dictionary versions of the binary node encoding. A client names the one it
// speaks in the last byte of its connection header ('W','A',6,v), which is
// also mixed into the Noise handshake hash. The two versions share the whole
// format (list, binary, JID, packed-nibble tags) and differ only in the
// strings the single- and double-byte tokens stand for. whatsmeow's binary
// package speaks version 3; the double keeps its nodes in version 3 and
// rewrites the tokens of a version 2 client's frames both ways.

// tokenDict is one version's token tables with the reverse index.
type tokenDict struct {
	version byte
	single  []string   // single[i]: byte i (1 <= i < len)
	double  [][]string // double[d][i]: bytes 236+d, i
	index   map[string]tokenIndex
}

type tokenIndex struct {
	dict int // -1: single-byte token
	i    byte
}

func newTokenDict(version byte, single []string, double [][]string) *tokenDict {
	d := &tokenDict{version: version, single: single, double: double, index: make(map[string]tokenIndex, len(single)+256*len(double))}
	// Single-byte tokens win over double-byte ones, as encoders pick them first.
	for di := len(double) - 1; di >= 0; di-- {
		for i := len(double[di]) - 1; i >= 0; i-- {
			d.index[double[di][i]] = tokenIndex{di, byte(i)}
		}
	}
	for i := len(single) - 1; i >= 1; i-- {
		if single[i] != "" {
			d.index[single[i]] = tokenIndex{-1, byte(i)}
		}
	}
	return d
}

var (
	dictV3 = newTokenDict(token.DictVersion, token.SingleByteTokens[:], func() [][]string {
		out := make([][]string, len(token.DoubleByteTokens))
		copy(out, token.DoubleByteTokens[:])
		return out
	}())
	dictV2 = newTokenDict(2, dictV2Single[:], func() [][]string {
		out := make([][]string, len(dictV2Double))
		for i := range dictV2Double {
			out[i] = dictV2Double[i][:]
		}
		return out
	}())
)

// dictForHeader is the dictionary a connection header announces, or nil.
func dictForHeader(header []byte) *tokenDict {
	if len(header) != 4 || header[0] != 'W' || header[1] != 'A' || header[2] != 6 {
		return nil
	}
	switch header[3] {
	case dictV3.version:
		return dictV3
	case dictV2.version:
		return dictV2
	}
	return nil
}

var errTranscode = errors.New("malformed binary node")

// transcodeNode rewrites one encoded node (without the leading flag byte)
// from the tokens of src to those of dst. Everything but tokens is copied
// byte for byte; a token dst lacks becomes a raw string. With src == dst it
// only checks the node and returns in as it is: either way the node is
// walked, bounded in depth, before anything else (waBinary.Unmarshal, whose
// recursion has no bound) reads a client's bytes.
func transcodeNode(src, dst *tokenDict, in []byte) ([]byte, error) {
	t := &transcoder{src: src, dst: dst, in: in, check: src == dst}
	if !t.check {
		t.out = make([]byte, 0, len(in)+16)
	}
	if err := t.node(0); err != nil {
		return nil, err
	}
	if t.pos != len(in) {
		return nil, fmt.Errorf("%w: %d trailing bytes", errTranscode, len(in)-t.pos)
	}
	if t.check {
		return in, nil
	}
	return t.out, nil
}

type transcoder struct {
	src, dst *tokenDict
	in, out  []byte
	pos      int
	check    bool // walk only: nothing is written to out
}

// maxNodeDepth bounds recursion on hostile input: every nested list of
// nodes and every part of a JID counts one level.
const maxNodeDepth = 64

var errTooDeep = fmt.Errorf("%w: nested too deep", errTranscode)

func (t *transcoder) take(n int) ([]byte, error) {
	if n < 0 || t.pos+n > len(t.in) {
		return nil, fmt.Errorf("%w: truncated at %d", errTranscode, t.pos)
	}
	b := t.in[t.pos : t.pos+n]
	t.pos += n
	return b, nil
}

func (t *transcoder) emit(b ...byte) {
	if !t.check {
		t.out = append(t.out, b...)
	}
}

func (t *transcoder) copyN(n int) ([]byte, error) {
	b, err := t.take(n)
	t.emit(b...)
	return b, err
}

// node is a list header (ListEmpty, List8 n, List16 n) and n values: the
// tag, attribute keys and values, and the content if n is even.
func (t *transcoder) node(depth int) error {
	if depth > maxNodeDepth {
		return errTooDeep
	}
	tag, err := t.copyN(1)
	if err != nil {
		return err
	}
	if tag[0] != token.ListEmpty && tag[0] != token.List8 && tag[0] != token.List16 {
		return fmt.Errorf("%w: node starts with tag %d", errTranscode, tag[0])
	}
	n, err := t.copyListSize(tag[0])
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: node without a tag at %d", errTranscode, t.pos)
	}
	if err := t.scalar(depth, false, "node tag"); err != nil {
		return err
	}
	for i := 1; i < n; i++ {
		if err := t.value(depth); err != nil {
			return err
		}
	}
	return nil
}

// copyListSize copies the size after a list tag: none for ListEmpty, one
// byte for List8, two for List16.
func (t *transcoder) copyListSize(tag byte) (int, error) {
	if tag == token.ListEmpty {
		return 0, nil
	}
	size, err := t.copyN(1 + int(tag-token.List8))
	if err != nil {
		return 0, err
	}
	n := int(size[0])
	if tag == token.List16 {
		n = n<<8 | int(size[1])
	}
	return n, nil
}

// scalar is a value that must be a token or a string: a node's tag, a
// JID's user or server. With emptyOK it may also be nothing (ListEmpty, a
// JID pair's empty user). whatsmeow's decoder would recurse into a JID
// nested in a JID without bound, and panics on a tag or user of the wrong
// type.
func (t *transcoder) scalar(depth int, emptyOK bool, what string) error {
	if t.pos < len(t.in) {
		switch tag := t.in[t.pos]; tag {
		case token.List8, token.List16, token.JIDPair, token.ADJID, token.FBJID, token.InteropJID:
			return fmt.Errorf("%w: %s at %d has tag %d, not a string", errTranscode, what, t.pos, tag)
		case token.ListEmpty:
			if !emptyOK {
				return fmt.Errorf("%w: %s at %d is empty", errTranscode, what, t.pos)
			}
		}
	}
	return t.value(depth)
}

func (t *transcoder) value(depth int) error {
	if depth > maxNodeDepth {
		return errTooDeep
	}
	b, err := t.take(1)
	if err != nil {
		return err
	}
	switch tag := b[0]; {
	case tag == token.ListEmpty:
		t.emit(tag)
	case tag == token.List8 || tag == token.List16:
		t.emit(tag)
		n, err := t.copyListSize(tag)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := t.node(depth + 1); err != nil {
				return err
			}
		}
	case tag == token.Binary8 || tag == token.Binary20 || tag == token.Binary32:
		t.emit(tag)
		var n int
		switch tag {
		case token.Binary8:
			l, err := t.copyN(1)
			if err != nil {
				return err
			}
			n = int(l[0])
		case token.Binary20:
			l, err := t.copyN(3)
			if err != nil {
				return err
			}
			n = int(l[0]&15)<<16 | int(l[1])<<8 | int(l[2])
		default:
			l, err := t.copyN(4)
			if err != nil {
				return err
			}
			n = int(l[0])<<24 | int(l[1])<<16 | int(l[2])<<8 | int(l[3])
		}
		_, err = t.copyN(n)
		return err
	case tag >= token.Dictionary0 && tag <= token.Dictionary3:
		i, err := t.take(1)
		if err != nil {
			return err
		}
		d := int(tag - token.Dictionary0)
		if d >= len(t.src.double) || int(i[0]) >= len(t.src.double[d]) {
			return fmt.Errorf("%w: no double-byte token %d/%d in dictionary %d", errTranscode, d, i[0], t.src.version)
		}
		t.token(t.src.double[d][i[0]])
	case tag == token.JIDPair:
		t.emit(tag)
		if err := t.scalar(depth+1, true, "JID user"); err != nil {
			return err
		}
		return t.scalar(depth+1, false, "JID server")
	case tag == token.ADJID:
		t.emit(tag)
		if _, err := t.copyN(2); err != nil { // agent, device
			return err
		}
		return t.scalar(depth+1, false, "JID user")
	case tag == token.FBJID || tag == token.InteropJID:
		t.emit(tag)
		if err := t.scalar(depth+1, false, "JID user"); err != nil {
			return err
		}
		fixed := 2 // device
		if tag == token.InteropJID {
			fixed = 4 // device, integrator
		}
		if _, err := t.copyN(fixed); err != nil {
			return err
		}
		return t.scalar(depth+1, false, "JID server")
	case tag == token.Nibble8 || tag == token.Hex8:
		t.emit(tag)
		start, err := t.copyN(1)
		if err != nil {
			return err
		}
		_, err = t.copyN(int(start[0] & 127))
		return err
	case int(tag) < len(t.src.single):
		t.token(t.src.single[tag])
	default:
		return fmt.Errorf("%w: tag %d is no token of dictionary %d", errTranscode, tag, t.src.version)
	}
	return nil
}

// token writes s as dst's token for it, or as a raw string.
func (t *transcoder) token(s string) {
	if t.check {
		return
	}
	if ti, ok := t.dst.index[s]; ok {
		if ti.dict < 0 {
			t.out = append(t.out, ti.i)
		} else {
			t.out = append(t.out, byte(token.Dictionary0+ti.dict), ti.i)
		}
		return
	}
	switch n := len(s); {
	case n < 256:
		t.out = append(t.out, token.Binary8, byte(n))
	case n < 1<<20:
		t.out = append(t.out, token.Binary20, byte(n>>16)&15, byte(n>>8), byte(n))
	default:
		t.out = append(t.out, token.Binary32, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	t.out = append(t.out, s...)
}
