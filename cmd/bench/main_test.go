package main

import "testing"

func TestParse(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkStores/prekeys-812         	       3	 192230453 ns/op
could not unmarshal event: unknown IPAddressSpace value: Loopback
BenchmarkStores/reopen-getmanysessions-256         	       3	   1419586.5 ns/op
BenchmarkStores/decrypt-1000   	       3	 4500000000 ns/op	  12 B/op
BenchmarkStoresMemKV/contacts-5000-2               	       3	  19000313 ns/op
PASS
`)
	got := parse(out)
	want := []result{{"Stores", "prekeys-812", 192230453}, {"Stores", "reopen-getmanysessions-256", 1419586.5}, {"Stores", "decrypt-1000", 4.5e9}, {"StoresMemKV", "contacts-5000-2", 19000313}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d: got %v, want %v", i, got[i], want[i])
		}
	}
}
