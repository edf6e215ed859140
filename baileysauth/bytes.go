package baileysauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Bytes is a byte string in a Baileys auth value. It marshals to the form
// Baileys' BufferJSON.replacer writes, {"type":"Buffer","data":"<base64>"},
// and unmarshals from every form a JSON adapter leaves behind:
//
//   - {"type":"Buffer","data":"<base64>"} (BufferJSON.replacer)
//   - {"type":"Buffer","data":[1,2,...]}  (Node's Buffer.prototype.toJSON)
//   - "<base64>"                          (protobuf.js toJSON, advSecretKey)
//   - [1,2,...]                           (Array.from(bytes))
//   - {"0":1,"1":2,...}                   (JSON.stringify of a Uint8Array)
type Bytes []byte

// ErrNotBytes is wrapped by every failure to read a value as bytes.
var ErrNotBytes = errors.New("not a byte string")

func (b Bytes) MarshalJSON() ([]byte, error) {
	if b == nil {
		return []byte("null"), nil
	}
	return json.Marshal(bufferJSON{Type: "Buffer", Data: base64.StdEncoding.EncodeToString(b)})
}

type bufferJSON struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

func (b *Bytes) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		*b = nil
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	out, err := bytesOf(v)
	if err != nil {
		return err
	}
	*b = out
	return nil
}

// bytesOf reads one of the forms Bytes accepts from a decoded JSON value
// (numbers as json.Number or float64).
func bytesOf(v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return decodeBase64(x)
	case []any:
		return byteArray(x)
	case map[string]any:
		if t, ok := x["type"]; ok && t == "Buffer" {
			switch d := x["data"].(type) {
			case string:
				return decodeBase64(d)
			case []any:
				return byteArray(d)
			}
			return nil, fmt.Errorf("%w: a {type: 'Buffer'} object whose data is neither base64 nor an array of bytes", ErrNotBytes)
		}
		return indexedBytes(x)
	}
	return nil, fmt.Errorf("%w: got %s", ErrNotBytes, kindOf(v))
}

// decodeBase64 accepts standard and URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "-_") {
		s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	}
	out, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("%w: a string that is not base64", ErrNotBytes)
	}
	return out, nil
}

func byteArray(a []any) ([]byte, error) {
	out := make([]byte, len(a))
	for i, e := range a {
		n, ok := byteValue(e)
		if !ok {
			return nil, fmt.Errorf("%w: element %d of an array is %s, not a byte", ErrNotBytes, i, kindOf(e))
		}
		out[i] = n
	}
	return out, nil
}

// indexedBytes reads {"0": b0, "1": b1, ...}: exactly the keys 0..n-1.
func indexedBytes(m map[string]any) ([]byte, error) {
	out := make([]byte, len(m))
	for k, e := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(m) || strconv.Itoa(i) != k {
			return nil, fmt.Errorf("%w: an object that is neither {type: 'Buffer', data} nor indexed bytes (key %q)", ErrNotBytes, k)
		}
		n, ok := byteValue(e)
		if !ok {
			return nil, fmt.Errorf("%w: element %s is %s, not a byte", ErrNotBytes, k, kindOf(e))
		}
		out[i] = n
	}
	return out, nil
}

func byteValue(e any) (byte, bool) {
	var f float64
	switch n := e.(type) {
	case json.Number:
		v, err := n.Float64()
		if err != nil {
			return 0, false
		}
		f = v
	case float64:
		f = n
	default:
		return 0, false
	}
	if f < 0 || f > 255 || f != float64(int(f)) {
		return 0, false
	}
	return byte(f), true
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
