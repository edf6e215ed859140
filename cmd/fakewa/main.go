//go:build !js

// Command fakewa runs the offline WhatsApp server double on loopback.
//
//	fakewa -addr 127.0.0.1:8765 -v -account 15551234567:Alice
//
// It prints the base URL (control API under /api/), the websocket URL and the
// root public key clients must trust, then serves until interrupted.
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.mau.fi/whatsmeow/store"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/fakewa"
)

type accountFlags []string

func (a *accountFlags) String() string     { return strings.Join(*a, ",") }
func (a *accountFlags) Set(v string) error { *a = append(*a, v); return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:8765", "listen address")
	verbose := flag.Bool("v", false, "print every node in its XML form")
	debug := flag.Bool("debug", false, "debug-level logs")
	rootSeed := flag.String("root-seed", "", "derive the root key from this text (a stable key across restarts); random if empty")
	qrRefs := flag.Int("qr-refs", 6, "QR refs per pair-device")
	minVersion := flag.String("min-version", fakewa.DefaultMinVersion.String(), "oldest web client version accepted; older clients get failure 405")
	allowOutdated := flag.Bool("allow-outdated", false, "accept every client version")
	pnAddressing := flag.Bool("pn-addressing", false, "address 1:1 messages by phone number as the service did before LIDs (no LID migration sync)")
	noTCTokenCheck := flag.Bool("no-tctoken-check", false, "deliver 1:1 messages that lack the recipient's privacy token instead of refusing them with 463")
	mediaCORS := flag.Bool("media-cors", false, "answer media host requests with CORS headers (a page on any origin may fetch blobs directly)")
	mediaHosts := flag.String("media-hosts", strings.Join(fakewa.DefaultMediaHosts, ","), "comma-separated host names announced in media_conn")
	contacts := flag.Int("contacts", fakewa.DefaultContacts, "address-book contacts in each new account's app state (negative: none)")
	var accounts accountFlags
	flag.Var(&accounts, "account", "create an account PHONE[:PUSHNAME] at start (repeatable)")
	flag.Parse()

	level := "INFO"
	if *debug {
		level = "DEBUG"
	}
	cfg := fakewa.Config{Log: waLog.Stdout("fakewa", level, true), Verbose: *verbose, QRRefs: *qrRefs}
	v, err := store.ParseVersion(*minVersion)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakewa: -min-version:", err)
		os.Exit(2)
	}
	cfg.Settings = fakewa.Settings{MinVersion: v, AllowOutdated: *allowOutdated, PNAddressing: *pnAddressing, NoTCTokenCheck: *noTCTokenCheck, MediaCORS: *mediaCORS}
	cfg.MediaHosts = strings.Split(*mediaHosts, ",")
	cfg.Contacts = *contacts
	if *rootSeed != "" {
		key := sha256.Sum256([]byte(*rootSeed))
		cfg.RootKey = &key
	}
	if err := run(cfg, *addr, accounts); err != nil {
		fmt.Fprintln(os.Stderr, "fakewa:", err)
		os.Exit(1)
	}
}

func run(cfg fakewa.Config, addr string, accounts []string) error {
	srv, err := fakewa.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	for _, a := range accounts {
		phone, name, _ := strings.Cut(a, ":")
		if _, err = srv.CreateAccount(phone, name); err != nil {
			return fmt.Errorf("account %q: %w", a, err)
		}
	}
	base, err := srv.Listen(addr)
	if err != nil {
		return err
	}
	root := srv.RootPublicKey()
	fmt.Printf("base URL:      %s\n", base)
	fmt.Printf("websocket URL: %s\n", srv.WebsocketURL())
	fmt.Printf("root key:      %s\n", base64.StdEncoding.EncodeToString(root[:]))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}
