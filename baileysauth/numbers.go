package baileysauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Int64 is an integer in a Baileys value. It marshals as a JSON number and
// unmarshals from what JSON adapters leave of one: a number, a decimal
// string (protobuf.js writes int64 fields so) or a Long object {low, high,
// unsigned} (a protobuf.js message stored as is).
type Int64 int64

// Int64String is Int64 marshalled as a decimal string, as Baileys keeps
// tctoken timestamps.
type Int64String int64

const maxSafeInteger = 1<<53 - 1 // JS numbers hold integers exactly up to here

func (n Int64) MarshalJSON() ([]byte, error) {
	if n > maxSafeInteger || n < -maxSafeInteger {
		return nil, fmt.Errorf("%d is beyond what a JS number holds exactly", int64(n))
	}
	return []byte(strconv.FormatInt(int64(n), 10)), nil
}

func (n *Int64) UnmarshalJSON(data []byte) error {
	v, err := int64Of(data)
	*n = Int64(v)
	return err
}

func (n Int64String) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.FormatInt(int64(n), 10))
}

func (n *Int64String) UnmarshalJSON(data []byte) error {
	v, err := int64Of(data)
	*n = Int64String(v)
	return err
}

func int64Of(data []byte) (int64, error) {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return 0, nil
	}
	switch data[0] {
	case '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return 0, err
		}
		return strconv.ParseInt(s, 10, 64)
	case '{':
		var l struct {
			Low, High int64
			Unsigned  bool
		}
		if err := json.Unmarshal(data, &l); err != nil {
			return 0, err
		}
		return int64(uint64(uint32(l.High))<<32 | uint64(uint32(l.Low))), nil
	}
	var f float64
	if err := json.Unmarshal(data, &f); err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > maxSafeInteger {
		return 0, fmt.Errorf("%v is not an integer a JS number holds exactly", f)
	}
	return int64(f), nil
}
