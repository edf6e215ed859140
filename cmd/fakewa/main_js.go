//go:build js

package main

import (
	"fmt"
	"os"
)

// fakewa listens on TCP sockets; a js/wasm build has none to offer.
func main() {
	fmt.Fprintln(os.Stderr, "fakewa: native only; build it for the host, not for js/wasm")
	os.Exit(2)
}
