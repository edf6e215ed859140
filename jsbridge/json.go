//go:build js

package jsbridge

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"syscall/js"
)

// Values of a user's Baileys-shaped store cross as JSON (baileysauth's
// forms): byte strings are Uint8Arrays on the JS side and BufferJSON
// objects, {"type":"Buffer","data":"<base64>"}, on the Go side.

// JSONToJS is the JS value of raw, its BufferJSON objects as Uint8Arrays.
func JSONToJS(raw []byte) (js.Value, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return js.Undefined(), err
	}
	return jsOfJSON(v), nil
}

func jsOfJSON(v any) js.Value {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x["data"].(string); ok && x["type"] == "Buffer" && len(x) == 2 {
			if b, err := base64.StdEncoding.DecodeString(s); err == nil {
				return BytesToJS(b)
			}
		}
		o := js.Global().Get("Object").New()
		for k, e := range x {
			o.Set(k, jsOfJSON(e))
		}
		return o
	case []any:
		a := js.Global().Get("Array").New(len(x))
		for i, e := range x {
			a.SetIndex(i, jsOfJSON(e))
		}
		return a
	}
	return js.ValueOf(v)
}

// JSONFromJS is the JSON of a value a user's store returned: ArrayBuffer
// views and ArrayBuffers as BufferJSON objects, other objects by their own
// enumerable string keys, undefined and function members left out (as
// JSON.stringify does). Depth and size are bounded; a hostile value (a
// throwing getter or Proxy trap, a cycle) is an error, never a panic.
func JSONFromJS(v js.Value) (raw []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			raw, err = nil, PanicError("reading a value of the store", r)
		}
	}()
	budget := maxJSONNodes
	out, err := goOfJS(v, 0, &budget)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

const (
	maxJSONDepth = 64
	maxJSONNodes = 1 << 20
)

var errTooBig = errors.New("value nested too deep or too large")

func goOfJS(v js.Value, depth int, budget *int) (any, error) {
	*budget--
	if depth > maxJSONDepth || *budget < 0 {
		return nil, errTooBig
	}
	g := js.Global()
	switch v.Type() {
	case js.TypeUndefined, js.TypeNull:
		return nil, nil
	case js.TypeBoolean:
		return v.Bool(), nil
	case js.TypeNumber:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, nil // JSON.stringify writes null
		}
		return f, nil
	case js.TypeString:
		return v.String(), nil
	case js.TypeObject:
	default:
		return nil, fmt.Errorf("a %s where a JSON value belongs", v.Type())
	}
	if g.Get("ArrayBuffer").Call("isView", v).Bool() || InstanceOf(v, g.Get("ArrayBuffer")) {
		b, err := BytesFromJS(v)
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "Buffer", "data": base64.StdEncoding.EncodeToString(b)}, nil
	}
	if g.Get("Array").Call("isArray", v).Bool() {
		n := Get(v, "length").Int()
		if n > *budget {
			return nil, errTooBig
		}
		out := make([]any, n)
		for i := range out {
			e, err := goOfJS(Get(v, fmt.Sprint(i)), depth+1, budget)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	keys := g.Get("Object").Call("keys", v)
	n := keys.Length()
	if n > *budget {
		return nil, errTooBig
	}
	out := make(map[string]any, n)
	for i := 0; i < n; i++ {
		k := keys.Index(i).String()
		e := Get(v, k)
		if e.Type() == js.TypeUndefined || e.Type() == js.TypeFunction || e.Type() == js.TypeSymbol {
			continue
		}
		x, err := goOfJS(e, depth+1, budget)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = x
	}
	return out, nil
}
