//go:build js

package main

import (
	"context"
	"encoding/json"
	"syscall/js"

	"github.com/wasmeow/wasmeow/core"
	"github.com/wasmeow/wasmeow/jsbridge"
)

// bindCalls gives the handle the core's JSON methods (core/calls.go):
// wasmeow.js serialises each argument to JSON, the core decodes and checks
// it, and the result comes back through its JSON.
func (c *client) bindCalls(h js.Value) {
	for _, name := range core.CallNames() {
		h.Set(name, jsbridge.Func(name, func(args []js.Value) (any, error) {
			raw := make([]json.RawMessage, len(args))
			for i, a := range args {
				if a.Type() != js.TypeString {
					return nil, jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: argument %d was not serialised", name, i+1)
				}
				raw[i] = json.RawMessage(a.String())
			}
			res, err := c.core.CallJSON(context.Background(), name, raw)
			if err != nil {
				return nil, err
			}
			return toJS(res), nil
		}))
	}
}
