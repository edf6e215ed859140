package libsignalnode

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"

	"github.com/wasmeow/wasmeow/baileysauth"
)

// nodeBuffer is bytes read in any JSON form baileysauth.Bytes reads, and
// written in JSON.stringify's {"type": "Buffer", "data": [1, 2]}: the form
// Baileys' own records hold inside a sender key record.
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
	var v baileysauth.Bytes
	err := v.UnmarshalJSON(data)
	*b = nodeBuffer(v)
	return err
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
