//go:build js

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall/js"

	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/core"
	"github.com/wasmeow/wasmeow/jsbridge"
)

// client is one createClient(): the core client and the JS handle the page
// holds, with the page's listeners.
type client struct {
	core    *core.Client
	emitter *jsbridge.Emitter
	log     waLog.Logger
}

// emit gives a core event to the page's listeners: its JSON as an object,
// the error event as a JS Error with its code. An event nobody listens to
// is not converted (a JSON encoding and a JSON.parse in the page each).
func (c *client) emit(e core.Event) {
	if ev, ok := e.(core.ErrorEvent); ok {
		c.emitter.Emit(e.EventName(), ev.Err)
		return
	}
	if c.emitter.ListenerCount(e.EventName()) == 0 {
		return
	}
	c.emitter.Emit(e.EventName(), toJS(e))
}

// toJS converts a payload through its JSON: the struct's json tags are the
// page's field names, and null stays null.
func toJS(v any) js.Value {
	b, err := json.Marshal(v)
	if err != nil {
		// Our own structs of strings, numbers and bools: cannot happen.
		panic(fmt.Sprintf("wasmeow: encoding %T: %v", v, err))
	}
	return js.Global().Get("JSON").Call("parse", string(b))
}

// listenerThrew reports a listener's exception as an error event (not for
// the error event itself, which would loop).
func (c *client) listenerThrew(event string, err error) {
	c.log.Errorf("a listener of %q threw: %v", event, err)
	if event != "error" {
		c.emitter.Emit("error", jsbridge.Errorf(jsbridge.CodeJS, "a listener of %q threw: %w", event, err))
	}
}

// handle builds the JS object the page gets from createClient.
func (c *client) handle() js.Value {
	h := js.Global().Get("Object").New()
	c.emitter.Bind(h)
	bg := context.Background()
	async := func(name string, fn func(args []js.Value) (any, error)) {
		h.Set(name, jsbridge.Func(name, fn))
	}
	async("connect", func([]js.Value) (any, error) { return nil, c.core.Connect(bg) })
	async("requestPairingCode", func(args []js.Value) (any, error) {
		if err := c.core.Alive(); err != nil {
			return nil, err
		}
		if len(args) == 0 || args[0].Type() != js.TypeString {
			return nil, jsbridge.Errorf(core.CodeInvalidPhone, "requestPairingCode(phone): phone must be a string of digits in international format")
		}
		return c.core.RequestPairingCode(bg, args[0].String())
	})
	async("sendText", func(args []js.Value) (any, error) {
		if err := c.core.Alive(); err != nil {
			return nil, err
		}
		to, err := stringArg(args, 0, "sendText(jid, text)", "jid")
		if err != nil {
			return nil, err
		}
		text, err := stringArg(args, 1, "sendText(jid, text)", "text")
		if err != nil {
			return nil, err
		}
		return c.core.SendText(bg, to, text)
	})
	for name, fn := range c.mediaMethods() {
		async(name, fn)
	}
	async("exportSession", func([]js.Value) (any, error) {
		blob, err := c.core.ExportSession(bg)
		if err != nil {
			return nil, err
		}
		return jsbridge.BytesToJS(blob), nil
	})
	async("exportBaileysSession", func([]js.Value) (any, error) {
		blob, err := c.core.ExportSession(bg)
		if err != nil {
			return nil, err
		}
		return exportBaileys(bg, blob)
	})
	async("logout", func([]js.Value) (any, error) { return nil, c.core.Logout(bg) })
	async("disconnect", func([]js.Value) (any, error) { return nil, c.core.Disconnect(bg) })
	async("destroy", func([]js.Value) (any, error) {
		err := c.core.Destroy(bg)
		unregisterClient(c)
		c.emitter.RemoveAll()
		return nil, err
	})
	sync := func(name string, fn func() any) {
		h.Set(name, jsbridge.SyncFunc(name, func([]js.Value) (any, error) {
			if err := c.core.Alive(); err != nil {
				return nil, err
			}
			return fn(), nil
		}))
	}
	sync("getCreds", func() any { return toJS(c.core.Creds()) })
	h.Set("getState", jsbridge.SyncFunc("getState", func([]js.Value) (any, error) { return c.core.State(), nil }))
	sync("isConnected", func() any { return c.core.IsConnected() })
	sync("isLoggedIn", func() any { return c.core.IsLoggedIn() })
	c.bindCalls(h) // calls.go: messages, receipts, presence, contacts, groups
	o := c.core.Options()
	h.Set("clientId", o.ClientID)
	h.Set("strategy", o.Strategy)
	return h
}

func stringArg(args []js.Value, i int, sig, name string) (string, error) {
	if len(args) <= i || args[i].Type() != js.TypeString {
		return "", jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: %s must be a string", sig, name)
	}
	return args[i].String(), nil
}
