//go:build js

package main

import (
	"encoding/base64"
	"strings"
	"syscall/js"

	"github.com/wasmeow/wasmeow/core"
	"github.com/wasmeow/wasmeow/jsbridge"
)

// configureModule is the module's configure({waVersion, socketURL,
// trustRootKey, mediaProxyURL}), which wasmeow.js calls with loadWasmeow's options before
// it hands the module to the page: the settings whatsmeow keeps page-wide.
func configureModule(opts js.Value) error {
	if jsbridge.IsNullish(opts) {
		return nil
	}
	if opts.Type() != js.TypeObject {
		return jsbridge.Errorf(jsbridge.CodeInvalidOption, "loadWasmeow: options must be an object")
	}
	var page core.Page
	if u := jsbridge.Get(opts, "socketURL"); !jsbridge.IsNullish(u) {
		if u.Type() != js.TypeString {
			return jsbridge.Errorf(jsbridge.CodeInvalidOption, "loadWasmeow: option socketURL must be a ws:// or wss:// URL string")
		}
		page.SocketURL = u.String()
	}
	if rk := jsbridge.Get(opts, "trustRootKey"); !jsbridge.IsNullish(rk) {
		key, err := decodeKey(rk)
		if err != nil || len(key) != 32 {
			return jsbridge.Errorf(jsbridge.CodeInvalidOption, "loadWasmeow: option trustRootKey must be a 32-byte key (base64 string or Uint8Array)")
		}
		page.TrustRootKey = key
	}
	if mp := jsbridge.Get(opts, "mediaProxyURL"); !jsbridge.IsNullish(mp) {
		switch {
		case mp.Type() == js.TypeBoolean && !mp.Bool():
			page.MediaProxyURL = core.MediaProxyDirect
		case mp.Type() == js.TypeString && mp.String() != core.MediaProxyDirect:
			page.MediaProxyURL = mp.String()
		default:
			return jsbridge.Errorf(jsbridge.CodeInvalidOption, "loadWasmeow: option mediaProxyURL must be an http(s):// URL string (a relay's /media/) or false")
		}
	}
	if err := page.Validate(); err != nil {
		return jsbridge.Errorf(jsbridge.CodeInvalidOption, "loadWasmeow: %w", err)
	}
	if v := jsbridge.Get(opts, "waVersion"); !jsbridge.IsNullish(v) {
		if v.Type() != js.TypeString {
			return jsbridge.Errorf(jsbridge.CodeInvalidOption, "loadWasmeow: option waVersion must be a string such as \"2.3000.1034270928\"")
		}
		parsed, err := core.ParseWAVersion(v.String())
		if err != nil {
			return jsbridge.Errorf(jsbridge.CodeInvalidOption, "loadWasmeow: option waVersion: %w", err)
		}
		core.SetWAVersion(parsed)
	}
	if err := core.SetPage(page); err != nil {
		return jsbridge.Errorf(jsbridge.CodeInvalidOption, "loadWasmeow: %w", err)
	}
	return nil
}

// decodeKey reads a key given as base64 (standard or URL-safe) or bytes.
func decodeKey(v js.Value) ([]byte, error) {
	if v.Type() != js.TypeString {
		return jsbridge.BytesFromJS(v)
	}
	key, err := base64.StdEncoding.DecodeString(v.String())
	if err != nil {
		key, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(v.String(), "="))
	}
	return key, err
}
