//go:build !js

// Command wasmeow-session moves a whatsmeow device between a whatsmeow
// sqlstore database (sqlite), a Baileys auth folder (useMultiFileAuthState)
// and a wasmeow session snapshot, keeping the link: no QR, and the Signal
// sessions continue (docs/AUTHSTATE.md).
//
//	wasmeow-session import-sqlite whatsmeow.db [-jid J] [-client-id ID] [-passphrase-file F] -o session.snapshot
//	wasmeow-session export-sqlite session.snapshot [-jid J] [-passphrase-file F] -o whatsmeow.db
//	wasmeow-session import-baileys baileys_auth_info [-client-id ID] [-passphrase-file F] -o session.snapshot
//	wasmeow-session export-baileys session.snapshot [-jid J] [-passphrase-file F] -o baileys_auth_info
//
// The import commands write a snapshot for the page's
// wm.importSession(clientId, bytes); the export commands write a new
// sqlstore database or Baileys folder from a snapshot (the bytes of
// client.exportSession()). What a Baileys conversion cannot carry is listed
// on stderr ("left out: ..."). With -passphrase-file F, the import commands
// seal the snapshot with the passphrase in F (as exportSession({passphrase})
// does) and the export commands open a sealed one. Stop the client that
// uses the source first, and never run both copies: they share the
// device's keys.
//
// Exit codes: 0 done, 2 usage, 3 the input is not a usable database or
// snapshot (or is sealed and no -passphrase-file was given), 4 no such
// device (or several and no -jid), 5 the output file exists, 6 wrong
// passphrase, 1 anything else (e.g. writing the output).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/sessionconv"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

const (
	exitOK = iota
	exitFailed
	exitUsage
	exitBadInput
	exitNoDevice
	exitExists
	exitWrongPassphrase
)

const usage = `usage:
  wasmeow-session import-sqlite whatsmeow.db [-jid J] [-client-id ID] [-passphrase-file F] -o session.snapshot
  wasmeow-session export-sqlite session.snapshot [-jid J] [-passphrase-file F] -o whatsmeow.db
  wasmeow-session import-baileys baileys_auth_info [-client-id ID] [-passphrase-file F] -o session.snapshot
  wasmeow-session export-baileys session.snapshot [-jid J] [-passphrase-file F] -o baileys_auth_info

  -o          the output file or folder; it must not exist (files written with mode 0600)
  -jid        the device to convert, e.g. 15550100001:12@s.whatsapp.net; needed
              when the input holds several
  -client-id  import-*: the clientId recorded in the snapshot (default
              "default"); wm.importSession's own clientId is what names the session
  -passphrase-file  a file holding a passphrase (one trailing newline is not part
              of it): import-* seal the snapshot with it, as
              exportSession({passphrase}) does; export-* open a sealed snapshot
Exit codes: 0 done, 2 usage, 3 unreadable input (or sealed, no passphrase), 4 no such
device, 5 output exists, 6 wrong passphrase, 1 other.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "wasmeow-session: %v\n%s", err, usage)
		return exitUsage
	}
	fmt.Fprintln(stderr, "wasmeow-session:", err)
	switch {
	case errors.Is(err, sessionconv.ErrSQLite), errors.Is(err, sessionconv.ErrSnapshot), errors.Is(err, sessionconv.ErrBaileys):
		return exitBadInput
	case errors.Is(err, sessionconv.ErrNoDevice):
		return exitNoDevice
	case errors.Is(err, sessionconv.ErrExists):
		return exitExists
	case errors.Is(err, snapshot.ErrWrongPassphrase):
		return exitWrongPassphrase
	case errors.Is(err, snapshot.ErrSealedAltered), errors.Is(err, errSealed):
		return exitBadInput
	}
	return exitFailed
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command"}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		return flag.ErrHelp
	}
	cmd := args[0]
	if !slices.Contains([]string{"import-sqlite", "export-sqlite", "import-baileys", "export-baileys"}, cmd) {
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "output file (must not exist)")
	jidText := fs.String("jid", "", "the device to convert (needed when the store holds several)")
	clientID := fs.String("client-id", "default", "import-*: the clientId recorded in the snapshot")
	passFile := fs.String("passphrase-file", "", "a file holding the passphrase that seals (import-*) or opens (export-*) the snapshot")
	input, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	passphrase, err := readPassphrase(*passFile)
	if err != nil {
		return err
	}
	if *out == "" {
		return usageError{"-o is required"}
	}
	var jid types.JID
	if *jidText != "" {
		if jid, err = types.ParseJID(*jidText); err != nil || jid.User == "" {
			return usageError{fmt.Sprintf("-jid %q is not a device JID (e.g. 15550100001:12@s.whatsapp.net)", *jidText)}
		}
	}
	var counts sessionconv.Counts
	var dropped []string
	switch cmd {
	case "import-sqlite":
		var blob []byte
		if blob, jid, counts, err = sessionconv.SQLiteToSnapshot(ctx, input, jid, *clientID); err != nil {
			return err
		}
		if err = writeSnapshot(*out, blob, passphrase); err != nil {
			return err
		}
	case "export-sqlite":
		blob, err := readSnapshot(input, passphrase)
		if err != nil {
			return err
		}
		if jid, counts, err = sessionconv.SnapshotToSQLite(ctx, blob, *out, jid); err != nil {
			return err
		}
	case "import-baileys":
		if *jidText != "" {
			return usageError{"-jid: a Baileys folder holds one device"}
		}
		st, err := sessionconv.ReadBaileysDir(input)
		if err != nil {
			return err
		}
		var blob []byte
		if blob, jid, counts, dropped, err = sessionconv.BaileysToSnapshot(ctx, st, *clientID); err != nil {
			return err
		}
		if err = writeSnapshot(*out, blob, passphrase); err != nil {
			return err
		}
	case "export-baileys":
		blob, err := readSnapshot(input, passphrase)
		if err != nil {
			return err
		}
		var st *sessionconv.BaileysState
		if st, jid, counts, dropped, err = sessionconv.SnapshotToBaileys(ctx, blob, jid); err != nil {
			return err
		}
		if err = sessionconv.WriteBaileysDir(st, *out); err != nil {
			return err
		}
	}
	for _, d := range dropped {
		fmt.Fprintln(stderr, "left out:", d)
	}
	fmt.Fprintf(stdout, "wrote %s: device %s, %s\n", *out, jid, summary(counts))
	fmt.Fprintln(stderr, "The output holds every key of this linked device: keep it as secret as a password, and do not run the source and the copy at once.")
	return nil
}

// errSealed: a sealed snapshot and no passphrase to open it.
var errSealed = errors.New("sealed snapshot")

// readSnapshot reads the snapshot in path, opening it with passphrase if it
// is sealed; a passphrase given for one that is not is a mistake worth
// saying.
func readSnapshot(path, passphrase string) ([]byte, error) {
	blob, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", sessionconv.ErrSnapshot, err)
	}
	switch sealed := snapshot.IsSealed(blob); {
	case sealed && passphrase == "":
		return nil, fmt.Errorf("%w: %s is sealed with a passphrase (exportSession({passphrase})): give it with -passphrase-file F", errSealed, path)
	case sealed:
		out, err := snapshot.Open(blob, passphrase)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return out, nil
	case passphrase != "":
		return nil, usageError{fmt.Sprintf("-passphrase-file was given but %s is not a sealed snapshot", path)}
	}
	return blob, nil
}

// writeSnapshot writes blob to the new file path, sealed with passphrase
// unless that is "".
func writeSnapshot(path string, blob []byte, passphrase string) error {
	if passphrase != "" {
		var err error
		if blob, err = snapshot.Seal(blob, passphrase); err != nil {
			return err
		}
	}
	return writeNew(path, blob)
}

// readPassphrase is the passphrase in path ("" for no path): the file's
// contents without one trailing newline (echo and editors add it).
func readPassphrase(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", usageError{fmt.Sprintf("-passphrase-file: %v", err)}
	}
	p := strings.TrimSuffix(strings.TrimSuffix(string(raw), "\n"), "\r")
	if p == "" {
		return "", usageError{fmt.Sprintf("-passphrase-file %s is empty", path)}
	}
	return p, nil
}

// parseInterleaved parses flags before and after the one input path.
func parseInterleaved(fs *flag.FlagSet, args []string) (string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", err
			}
			return "", usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return "", usageError{fmt.Sprintf("want one input file, got %d", len(pos))}
	}
	return pos[0], nil
}

// writeNew writes data to a new file (mode 0600: it holds keys), never
// replacing one, and only once complete.
func writeNew(path string, data []byte) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s", sessionconv.ErrExists, path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: %s", sessionconv.ErrExists, path)
		}
		return err
	}
	return nil
}

func summary(c sessionconv.Counts) string {
	names := make([]string, 0, len(c))
	for k := range c {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%d %s", c[k], k)
	}
	return strings.Join(parts, ", ")
}
