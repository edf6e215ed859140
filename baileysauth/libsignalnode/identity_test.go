package libsignalnode_test

import (
	"bytes"
	"testing"

	"github.com/wasmeow/wasmeow/baileysauth/libsignalnode"
)

func TestIdentityKeys(t *testing.T) {
	var k [32]byte
	for i := range k {
		k[i] = byte(i + 1)
	}
	node := libsignalnode.IdentityFromWhatsmeow(k)
	if len(node) != 33 || node[0] != 5 || !bytes.Equal(node[1:], k[:]) {
		t.Fatalf("%x", node)
	}
	for _, in := range [][]byte{node, k[:]} {
		if got, err := libsignalnode.IdentityToWhatsmeow(in); err != nil || got != k {
			t.Fatalf("%x: %x, %v", in, got, err)
		}
	}
	for _, bad := range [][]byte{nil, node[:20], append([]byte{6}, k[:]...)} {
		if _, err := libsignalnode.IdentityToWhatsmeow(bad); err == nil {
			t.Errorf("%x accepted", bad)
		}
	}
}
