//go:build js

package main

import "syscall/js"

// pagePlatform is the platform of the page or worker this program runs in.
var pagePlatform = func() browserPlatform {
	nav := js.Global().Get("navigator")
	if nav.Type() != js.TypeObject || nav.Get("userAgent").Type() != js.TypeString {
		return detectPlatform("")
	}
	return detectPlatform(nav.Get("userAgent").String())
}()
