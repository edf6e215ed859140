package baileysauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"go.mau.fi/whatsmeow/store"

	"github.com/wasmeow/wasmeow/baileysauth/filltest"
)

func testDevice(*testing.T) *store.Device { return filltest.Device() }

func sameDevice(t *testing.T, got, want *store.Device) {
	t.Helper()
	eq := func(name string, a, b []byte) {
		if !bytes.Equal(a, b) {
			t.Errorf("%s: got %x, want %x", name, a, b)
		}
	}
	eq("noise priv", got.NoiseKey.Priv[:], want.NoiseKey.Priv[:])
	eq("noise pub", got.NoiseKey.Pub[:], want.NoiseKey.Pub[:])
	eq("identity priv", got.IdentityKey.Priv[:], want.IdentityKey.Priv[:])
	eq("identity pub", got.IdentityKey.Pub[:], want.IdentityKey.Pub[:])
	eq("signed prekey priv", got.SignedPreKey.Priv[:], want.SignedPreKey.Priv[:])
	eq("signed prekey sig", got.SignedPreKey.Signature[:], want.SignedPreKey.Signature[:])
	eq("adv", got.AdvSecretKey, want.AdvSecretKey)
	eq("details", got.Account.Details, want.Account.Details)
	eq("account sig key", got.Account.AccountSignatureKey, want.Account.AccountSignatureKey)
	eq("account sig", got.Account.AccountSignature, want.Account.AccountSignature)
	eq("device sig", got.Account.DeviceSignature, want.Account.DeviceSignature)
	if got.SignedPreKey.KeyID != want.SignedPreKey.KeyID || got.RegistrationID != want.RegistrationID ||
		*got.ID != *want.ID || got.LID != want.LID || got.Platform != want.Platform || got.BusinessName != want.BusinessName ||
		got.PushName != want.PushName || got.LIDMigrationTimestamp != want.LIDMigrationTimestamp || got.FacebookUUID != want.FacebookUUID {
		t.Errorf("fields differ:\n got  %+v\n want %+v", got, want)
	}
}

func TestCredsRoundTripThroughJSONKeepsEveryDeviceField(t *testing.T) {
	d := testDevice(t)
	c, err := FromDevice(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	// Baileys' names and forms.
	if m["registered"] != true || m["me"].(map[string]any)["id"] != "15551234567:12@s.whatsapp.net" ||
		m["me"].(map[string]any)["lid"] != "123456789012345:12@lid" || m["me"].(map[string]any)["name"] != "Alice" ||
		m["platform"] != "smba" || m["registrationId"] != float64(0xfedcba98) {
		t.Fatalf("creds JSON: %s", raw)
	}
	if pub := m["noiseKey"].(map[string]any)["public"].(map[string]any); pub["type"] != "Buffer" {
		t.Fatalf("noiseKey.public is not in BufferJSON form: %v", pub)
	}
	if _, ok := m["processedHistoryMessages"]; !ok {
		t.Fatalf("Baileys' defaults missing: %s", raw)
	}
	ids := m["signalIdentities"].([]any)
	if len(ids) != 1 || ids[0].(map[string]any)["identifier"].(map[string]any)["name"] != "123456789012345:12@lid" {
		t.Fatalf("signalIdentities: %v", ids)
	}
	var back Creds
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	got, err := back.Device()
	if err != nil {
		t.Fatal(err)
	}
	sameDevice(t, got, d)
}

func TestCredsWrittenByBaileysLoadAndKeepTheirOtherFields(t *testing.T) {
	raw, err := os.ReadFile("testdata/creds-paired.json") // initAuthCreds + pairing fields, JSON.stringify(c, BufferJSON.replacer)
	if err != nil {
		t.Fatal(err)
	}
	var c Creds
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	d, err := c.Device()
	if err != nil {
		t.Fatal(err)
	}
	if d.ID.String() != "15551234567:12@s.whatsapp.net" || d.LID.String() != "123456789012345:12@lid" || d.PushName != "Alice" ||
		len(d.Account.AccountSignature) != 64 || len(d.AdvSecretKey) != 32 || d.Platform != "smba" {
		t.Fatalf("device: %+v", d)
	}
	// Saving after whatsmeow changed the device keeps what it does not hold.
	d.PushName = "Alice B"
	c2, err := FromDevice(d, &c)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(c2)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if string(m["routingInfo"]) != `{"type":"Buffer","data":"CAUIAg=="}` || string(m["accountSettings"]) != `{"unarchiveChats":false}` || m["pairingEphemeralKeyPair"] == nil {
		t.Fatalf("fields whatsmeow does not hold were lost: %s", out)
	}
	if !bytes.Contains(m["me"], []byte(`"Alice B"`)) || string(m["nextPreKeyId"]) != "1" {
		t.Fatalf("me or counters: %s / %s", m["me"], m["nextPreKeyId"])
	}
}

func TestUnpairedOrBrokenCredsAreRefused(t *testing.T) {
	raw, err := os.ReadFile("testdata/creds-init.json") // Baileys' initAuthCreds(), before pairing
	if err != nil {
		t.Fatal(err)
	}
	var c Creds
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if c.IsPaired() {
		t.Fatal("initAuthCreds counts as paired")
	}
	if _, err := c.Device(); !errors.Is(err, ErrInvalidCreds) {
		t.Fatalf("unpaired: %v", err)
	}
	good, err := FromDevice(testDevice(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, spoil := range map[string]func(c *Creds){
		"public key of another private key": func(c *Creds) { c.NoiseKey.Public = c.SignedIdentityKey.Public },
		"short private key":                 func(c *Creds) { c.SignedIdentityKey.Private = c.SignedIdentityKey.Private[:31] },
		"short signature":                   func(c *Creds) { c.SignedPreKey.Signature = c.SignedPreKey.Signature[:63] },
		"advSecretKey not base64":           func(c *Creds) { c.AdvSecretKey = "!!" },
		"me.id not a JID":                   func(c *Creds) { c.Me.ID = "@@" },
		"account signature missing":         func(c *Creds) { c.Account.AccountSignature = nil },
		"facebookUUID not a UUID":           func(c *Creds) { c.FacebookUUID = "x" },
	} {
		cp := *good
		me, acc := *good.Me, *good.Account
		cp.Me, cp.Account = &me, &acc
		spoil(&cp)
		if _, err := cp.Device(); !errors.Is(err, ErrInvalidCreds) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := json.Unmarshal([]byte(`{"noiseKey":{"public":{"type":"Buffer","data":7}}}`), &c); !errors.Is(err, ErrInvalidCreds) || !errors.Is(err, ErrNotBytes) {
		t.Fatalf("bad bytes: %v", err)
	}
}

func TestBytesReadsEveryJSONFormOfAByteString(t *testing.T) {
	want := []byte{0, 1, 254, 255}
	for _, in := range []string{
		`{"type":"Buffer","data":"AAH+/w=="}`,
		`{"type":"Buffer","data":[0,1,254,255]}`,
		`"AAH+/w=="`, `"AAH-_w"`,
		`[0,1,254,255]`,
		`{"0":0,"1":1,"2":254,"3":255}`,
	} {
		var b Bytes
		if err := json.Unmarshal([]byte(in), &b); err != nil || !bytes.Equal(b, want) {
			t.Errorf("%s: %x %v", in, b, err)
		}
	}
	for _, in := range []string{`7`, `true`, `[256]`, `[1.5]`, `{"1":1}`, `{"0":1,"x":2}`, `{"type":"Buffer","data":{}}`, `"a b"`} {
		var b Bytes
		if err := json.Unmarshal([]byte(in), &b); !errors.Is(err, ErrNotBytes) {
			t.Errorf("%s: want ErrNotBytes, got %x %v", in, b, err)
		}
	}
	out, _ := json.Marshal(Bytes(want))
	if string(out) != `{"type":"Buffer","data":"AAH+/w=="}` {
		t.Fatalf("marshal: %s", out)
	}
}
