//go:build !js

package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

// sqliteWith makes a sqlstore database holding a paired device per user.
func sqliteWith(t *testing.T, users ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "whatsmeow.db")
	c, err := sqlstore.New(context.Background(), "sqlite3", "file:"+path+"?_foreign_keys=on", waLog.Noop)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, u := range users {
		d := c.NewDevice()
		jid := types.NewADJID(u, 0, 4)
		d.ID = &jid
		d.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
		if err := c.PutDevice(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestCommandExitCodes(t *testing.T) {
	dir := t.TempDir()
	one := sqliteWith(t, "15550100001")
	two := sqliteWith(t, "15550100001", "15550100002")
	none := sqliteWith(t)
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("not a database, not a snapshot, just some bytes of text"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db") // a sqlite database, not whatsmeow's
	if db, err := sql.Open("sqlite3", "file:"+other); err != nil {
		t.Fatal(err)
	} else if _, err := db.Exec("CREATE TABLE notes (body TEXT)"); err != nil || db.Close() != nil {
		t.Fatal(err)
	}
	exists := filepath.Join(dir, "exists")
	if err := os.WriteFile(exists, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "one.snapshot")
	back := filepath.Join(dir, "back.db")
	folder := filepath.Join(dir, "baileys_auth_info")
	fromFolder := filepath.Join(dir, "from-baileys.snapshot")
	sealed, sealedBack := filepath.Join(dir, "sealed.snapshot"), filepath.Join(dir, "sealed-back.db")
	sealedFolder, sealedFromFolder := filepath.Join(dir, "sealed_auth_info"), filepath.Join(dir, "sealed-from-baileys.snapshot")
	pass, wrongPass, emptyPass := filepath.Join(dir, "pass"), filepath.Join(dir, "wrong-pass"), filepath.Join(dir, "empty-pass")
	for f, p := range map[string]string{pass: "correct horse\n", wrongPass: "correct horse!\n", emptyPass: "\n"} {
		if err := os.WriteFile(f, []byte(p), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"no command", nil, exitUsage, "no command"},
		{"unknown command", []string{"convert"}, exitUsage, `unknown command "convert"`},
		{"no output", []string{"import-sqlite", one}, exitUsage, "-o is required"},
		{"two inputs", []string{"import-sqlite", one, two, "-o", snap}, exitUsage, "want one input file, got 2"},
		{"bad jid", []string{"import-sqlite", one, "-jid", "@@", "-o", snap}, exitUsage, "not a device JID"},
		{"missing file", []string{"import-sqlite", filepath.Join(dir, "nope.db"), "-o", snap}, exitBadInput, "no such file"},
		{"not sqlite", []string{"import-sqlite", garbage, "-o", snap}, exitBadInput, "not a usable whatsmeow sqlstore database"},
		{"other sqlite", []string{"import-sqlite", other, "-o", snap}, exitBadInput, "holds no whatsmeow tables"},
		{"no device", []string{"import-sqlite", none, "-o", snap}, exitNoDevice, "no paired device"},
		{"two devices", []string{"import-sqlite", two, "-o", snap}, exitNoDevice, "holds 2 devices"},
		{"wrong jid", []string{"import-sqlite", two, "-jid", "15550100003:4@s.whatsapp.net", "-o", snap}, exitNoDevice, "no such device"},
		{"output exists", []string{"import-sqlite", one, "-o", exists}, exitExists, "the output file exists"},
		{"output directory missing", []string{"import-sqlite", one, "-o", filepath.Join(dir, "no", "such.snapshot")}, exitFailed, "no such file or directory"},
		{"snapshot missing", []string{"export-sqlite", filepath.Join(dir, "nope.snapshot"), "-o", filepath.Join(dir, "j.db")}, exitBadInput, "cannot read the snapshot: open"},
		{"import", []string{"import-sqlite", two, "-o", snap, "-jid", "15550100002:4@s.whatsapp.net"}, exitOK, "device 15550100002:4@s.whatsapp.net"},
		{"export", []string{"export-sqlite", snap, "-o", back}, exitOK, "wrote " + back},
		{"export over a file", []string{"export-sqlite", snap, "-o", exists}, exitExists, "the output file exists"},
		{"export of garbage", []string{"export-sqlite", garbage, "-o", filepath.Join(dir, "g.db")}, exitBadInput, "cannot read the snapshot: not a valid wasmeow session snapshot"},
		{"export of a database", []string{"export-sqlite", one, "-o", filepath.Join(dir, "h.db")}, exitBadInput, "not gzip data"},
		{"export-baileys", []string{"export-baileys", snap, "-o", folder}, exitOK, "wrote " + folder},
		{"export-baileys over a file", []string{"export-baileys", snap, "-o", exists}, exitExists, "the output file exists"},
		{"import-baileys", []string{"import-baileys", folder, "-o", fromFolder}, exitOK, "device 15550100002:4@s.whatsapp.net"},
		{"import-baileys with -jid", []string{"import-baileys", folder, "-jid", "15550100002:4@s.whatsapp.net", "-o", filepath.Join(dir, "k")}, exitUsage, "a Baileys folder holds one device"},
		{"import-baileys of a file", []string{"import-baileys", garbage, "-o", filepath.Join(dir, "k")}, exitBadInput, "not a usable Baileys auth state"},
		{"import-baileys of a sqlite folder", []string{"import-baileys", filepath.Dir(one), "-o", filepath.Join(dir, "k")}, exitBadInput, "not a file of useMultiFileAuthState"},
		{"export, wrong jid", []string{"export-sqlite", snap, "-jid", "15550100001:4@s.whatsapp.net", "-o", filepath.Join(dir, "i.db")}, exitNoDevice, "no such device"},
		{"import, sealed", []string{"import-sqlite", one, "-passphrase-file", pass, "-o", sealed}, exitOK, "wrote " + sealed},
		{"export of a sealed snapshot, no passphrase", []string{"export-sqlite", sealed, "-o", filepath.Join(dir, "k.db")}, exitBadInput, "is sealed with a passphrase"},
		{"export of a sealed snapshot, wrong passphrase", []string{"export-sqlite", sealed, "-passphrase-file", wrongPass, "-o", filepath.Join(dir, "k.db")}, exitWrongPassphrase, "wrong passphrase"},
		{"export of a sealed snapshot", []string{"export-sqlite", sealed, "-passphrase-file", pass, "-o", sealedBack}, exitOK, "device 15550100001:4@s.whatsapp.net"},
		{"export-baileys of a sealed snapshot", []string{"export-baileys", sealed, "-passphrase-file", pass, "-o", sealedFolder}, exitOK, "wrote " + sealedFolder},
		{"export-baileys of a sealed snapshot, no passphrase", []string{"export-baileys", sealed, "-o", filepath.Join(dir, "k")}, exitBadInput, "is sealed with a passphrase"},
		{"import-baileys, sealed", []string{"import-baileys", sealedFolder, "-passphrase-file", pass, "-o", sealedFromFolder}, exitOK, "device 15550100001:4@s.whatsapp.net"},
		{"a passphrase for a plain snapshot", []string{"export-sqlite", snap, "-passphrase-file", pass, "-o", filepath.Join(dir, "l.db")}, exitUsage, "is not a sealed snapshot"},
		{"an empty passphrase file", []string{"import-sqlite", one, "-passphrase-file", emptyPass, "-o", filepath.Join(dir, "m.snapshot")}, exitUsage, "is empty"},
		{"no passphrase file", []string{"import-sqlite", one, "-passphrase-file", filepath.Join(dir, "nope"), "-o", filepath.Join(dir, "m.snapshot")}, exitUsage, "-passphrase-file: open"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), c.args, &stdout, &stderr)
		all := stdout.String() + stderr.String()
		if code != c.code || !strings.Contains(all, c.says) {
			t.Errorf("%s: exit %d, want %d with %q; said:\n%s", c.name, code, c.code, c.says, all)
		}
	}
	if b, err := os.ReadFile(sealed); err != nil || !snapshot.IsSealed(b) {
		t.Errorf("import-sqlite -passphrase-file wrote no sealed snapshot: %v", err)
	}
	if b, err := os.ReadFile(sealedFromFolder); err != nil || !snapshot.IsSealed(b) {
		t.Errorf("import-baileys -passphrase-file wrote no sealed snapshot: %v", err)
	}
	for _, f := range []string{snap, back, fromFolder, filepath.Join(folder, "creds.json"), sealed, sealedBack, sealedFromFolder, filepath.Join(sealedFolder, "creds.json")} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want a file of mode 0600", f, st, err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	for _, f := range []string{"g.db", "h.db", "i.db", "j.db", "k", "k.db", "l.db", "m.snapshot"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("a failed export left %s", f)
		}
	}
}
