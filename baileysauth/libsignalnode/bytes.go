package libsignalnode

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// nodeBuffer is bytes in any of the forms a Node Buffer takes in JSON:
// JSON.stringify's {"type": "Buffer", "data": [1, 2]}, Baileys' BufferJSON
// {"type": "Buffer", "data": "<base64>"}, a plain array of numbers, a
// Uint8Array stringified as {"0": 1, "1": 2}, or a base64 string. It is
// written in JSON.stringify's form, which is what Baileys stores inside a
// sender key record.
type nodeBuffer []byte

func (b nodeBuffer) MarshalJSON() ([]byte, error) {
	var out bytes.Buffer
	out.WriteString(`{"type":"Buffer","data":[`)
	for i, c := range b {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(strconv.Itoa(int(c)))
	}
	out.WriteString("]}")
	return out.Bytes(), nil
}

func (b *nodeBuffer) UnmarshalJSON(data []byte) error {
	v, err := decodeBytes(data)
	*b = v
	return err
}

// decodeBytes reads one JSON value in any nodeBuffer form.
func decodeBytes(data []byte) ([]byte, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil, nil
	}
	switch data[0] {
	case '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, err
		}
		v, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("bytes as a string must be base64: %w", err)
		}
		return v, nil
	case '[':
		var nums []int
		if err := json.Unmarshal(data, &nums); err != nil {
			return nil, fmt.Errorf("bytes as an array must hold numbers: %w", err)
		}
		return numbersToBytes(nums)
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			return nil, err
		}
		if t, ok := obj["type"]; ok {
			if string(t) != `"Buffer"` {
				return nil, fmt.Errorf("an object with type %s is not a Buffer", t)
			}
			return decodeBytes(obj["data"])
		}
		// A Uint8Array through JSON.stringify: {"0": 12, "1": 34, ...}.
		nums := make([]int, len(obj))
		for k, raw := range obj {
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(obj) {
				return nil, fmt.Errorf("bytes as an object must have the keys 0..%d, not %q", len(obj)-1, k)
			}
			if err := json.Unmarshal(raw, &nums[i]); err != nil {
				return nil, fmt.Errorf("byte %d: %w", i, err)
			}
		}
		return numbersToBytes(nums)
	}
	return nil, errors.New("not bytes: want a Buffer, an array of numbers or a base64 string")
}

func numbersToBytes(nums []int) ([]byte, error) {
	out := make([]byte, len(nums))
	for i, n := range nums {
		if n < 0 || n > 255 {
			return nil, fmt.Errorf("byte %d is %d, not 0..255", i, n)
		}
		out[i] = byte(n)
	}
	return out, nil
}

// sortedCounters is the keys of a libsignal-node messageKeys object in
// numeric order.
func sortedCounters(m map[string][]byte) ([]uint32, error) {
	out := make([]uint32, 0, len(m))
	for k := range m {
		n, err := strconv.ParseUint(k, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("message key counter %q is not a number", k)
		}
		out = append(out, uint32(n))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
