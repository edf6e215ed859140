package libsignalnode

import (
	"bytes"
	"testing"
)

// Every form a Buffer takes in the JSON of the usual adapters reads back.
func TestNodeBufferForms(t *testing.T) {
	want := []byte{0, 1, 254, 255}
	for _, in := range []string{
		`{"type":"Buffer","data":[0,1,254,255]}`,
		`{"type":"Buffer","data":"AAH+/w=="}`,
		`[0,1,254,255]`,
		`{"0":0,"1":1,"2":254,"3":255}`,
		`"AAH+/w=="`,
	} {
		var b nodeBuffer
		if err := b.UnmarshalJSON([]byte(in)); err != nil || !bytes.Equal(b, want) {
			t.Errorf("%s: %v, %v", in, []byte(b), err)
		}
	}
	for _, in := range []string{`{"type":"Other","data":[]}`, `[300]`, `{"0":1,"5":2}`, `"***"`, `true`} {
		var b nodeBuffer
		if err := b.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
	out, _ := nodeBuffer(want).MarshalJSON()
	if string(out) != `{"type":"Buffer","data":[0,1,254,255]}` {
		t.Errorf("written as %s", out)
	}
}
