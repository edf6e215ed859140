//go:build !js

// Command sqliteclient is an unmodified whatsmeow client on a sqlstore
// (sqlite) database, run against a cmd/fakewa process: the native side of
// web/test/migrate.test.js.
//
//	sqliteclient -db whatsmeow.db -api http://127.0.0.1:PORT -root BASE64 [-pair PHONE] -peer PHONE -round NAME
//	sqliteclient -postgres DSN ...   (whatsmeow's sqlstore on PostgreSQL, pgx driver: web/test/fleet.test.js)
//
// With -pair it links a new device to PHONE's simulated phone by QR;
// without, the database's device must log in with no QR. Then it talks with
// the peer's phone both ways (the phone first, two texts each), waits until
// the server holds nothing unacknowledged for it, disconnects and prints
// {"jid": ...}. A QR (without -pair), a logout, an undecryptable message or
// a log line about a retry receipt or a failed decryption fails it (exit 1).
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/fakewa"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sqliteclient:", err)
		os.Exit(1)
	}
}

// troubleLog passes WARN and ERROR on to stderr and keeps every line that
// tells of a retry receipt or a failed decryption.
type troubleLog struct {
	mod   string
	mu    *sync.Mutex
	lines *[]string
}

var trouble = regexp.MustCompile(`(?i)retry receipt|failed to decrypt|undecryptable`)

func (l troubleLog) log(level, msg string, args ...any) {
	line := fmt.Sprintf(msg, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if trouble.MatchString(line) {
		*l.lines = append(*l.lines, line)
	}
	if level == "WARN" || level == "ERROR" {
		fmt.Fprintf(os.Stderr, "[%s %s] %s\n", l.mod, level, line)
	}
}

func (l troubleLog) Debugf(m string, a ...any)   { l.log("DEBUG", m, a...) }
func (l troubleLog) Infof(m string, a ...any)    { l.log("INFO", m, a...) }
func (l troubleLog) Warnf(m string, a ...any)    { l.log("WARN", m, a...) }
func (l troubleLog) Errorf(m string, a ...any)   { l.log("ERROR", m, a...) }
func (l troubleLog) Sub(mod string) waLog.Logger { l.mod += "/" + mod; return l }

func run() error {
	dbPath := flag.String("db", "", "sqlstore sqlite database (created when pairing)")
	pgDSN := flag.String("postgres", "", "instead of -db: a PostgreSQL database holding whatsmeow's sqlstore")
	apiURL := flag.String("api", "", "fakewa's base URL")
	root := flag.String("root", "", "fakewa's root public key, base64")
	pairPhone := flag.String("pair", "", "pair a new device with this account's phone")
	peer := flag.String("peer", "", "the phone to talk with")
	round := flag.String("round", "native", "a name for this round's texts")
	flag.Parse()
	key, err := base64.StdEncoding.DecodeString(*root)
	if err != nil || len(key) != 32 || (*dbPath == "") == (*pgDSN == "") || *apiURL == "" || *peer == "" {
		return errors.New("need -db or -postgres, -api, -root (32 bytes, base64) and -peer")
	}
	u, err := url.Parse(*apiURL)
	if err != nil {
		return err
	}
	whatsmeow.WACertPubKey = [32]byte(key)
	fakewa.UseVersion(fakewa.CurrentVersion)
	ctl := fakewa.Control{Base: *apiURL}
	ctx := context.Background()

	dialect, addr := "sqlite3", "file:"+*dbPath+"?_foreign_keys=on&_busy_timeout=5000&_journal_mode=WAL"
	if *pgDSN != "" {
		dialect, addr = "pgx", *pgDSN
	}
	container, err := sqlstore.New(ctx, dialect, addr, waLog.Noop)
	if err != nil {
		return err
	}
	defer container.Close()
	dev, err := container.GetFirstDevice(ctx)
	if err != nil {
		return err
	}
	if (*pairPhone != "") != (dev.ID == nil) {
		return fmt.Errorf("-pair %q given for a database whose device is %v", *pairPhone, dev.ID)
	}
	log := troubleLog{mod: "client", mu: &sync.Mutex{}, lines: new([]string)}
	cli := whatsmeow.NewClient(dev, log)
	httpc := fakewa.HTTPClientFor(u.Host)
	cli.SetPreLoginHTTPClient(httpc)
	cli.SetWebsocketHTTPClient(httpc)
	cli.SetMediaHTTPClient(httpc)
	evs := make(chan any, 1000)
	cli.AddEventHandler(func(evt any) {
		select {
		case evs <- evt:
		default:
		}
	})
	// wait returns the first event of type T that match accepts; bad
	// events fail it at once.
	wait := func(what string, match func(any) bool) error {
		deadline := time.After(20 * time.Second)
		for {
			select {
			case evt := <-evs:
				switch e := evt.(type) {
				case *events.QR:
					if *pairPhone == "" {
						return errors.New("asked for a QR: the device lost its link")
					}
				case *events.LoggedOut:
					return fmt.Errorf("logged out: %v", e.Reason)
				case *events.UndecryptableMessage:
					return fmt.Errorf("could not decrypt %s from %s", e.Info.ID, e.Info.Sender)
				}
				if match(evt) {
					return nil
				}
			case <-deadline:
				return fmt.Errorf("no %s within 20 s", what)
			}
		}
	}
	if err := cli.Connect(); err != nil {
		return err
	}
	defer cli.Disconnect()
	if *pairPhone != "" {
		var qr *events.QR
		if err := wait("QR", func(e any) bool { qr, _ = e.(*events.QR); return qr != nil }); err != nil {
			return err
		}
		if err := ctl.Call("POST", "/api/accounts/"+*pairPhone+"/scan", map[string]string{"qr": qr.Codes[0]}, nil); err != nil {
			return err
		}
	}
	if err := wait("connection", func(e any) bool { _, ok := e.(*events.Connected); return ok }); err != nil {
		return err
	}
	jid := cli.Store.GetJID()
	peerJID := types.NewJID(*peer, types.DefaultUserServer)
	for i := range 2 {
		text := fmt.Sprintf("%s: to %s, %d", *round, jid.User, i)
		var sent struct{ ID string }
		if err := ctl.Call("POST", "/api/accounts/"+*peer+"/send", map[string]string{"to": jid.User, "text": text}, &sent); err != nil {
			return err
		}
		if err := wait("text "+sent.ID, func(e any) bool {
			m, ok := e.(*events.Message)
			return ok && m.Info.ID == sent.ID && m.Message.GetConversation() == text
		}); err != nil {
			return err
		}
		reply := fmt.Sprintf("%s: from %s, %d", *round, jid.User, i)
		resp, err := cli.SendMessage(ctx, peerJID, &waE2E.Message{Conversation: proto.String(reply)})
		if err != nil {
			return err
		}
		if err := poll("the peer's copy of "+resp.ID, func() (bool, error) {
			var msgs []fakewa.ReceivedMessage
			err := ctl.Call("GET", "/api/accounts/"+*peer+"/messages", nil, &msgs)
			for _, m := range msgs {
				if m.ID == resp.ID && m.Text == reply {
					return true, nil
				}
			}
			return false, err
		}); err != nil {
			return err
		}
	}
	if err := poll("nothing left queued", func() (bool, error) {
		var accounts []fakewa.AccountInfo
		err := ctl.Call("GET", "/api/accounts", nil, &accounts)
		for _, a := range accounts {
			for _, d := range a.Devices {
				if d.JID == jid.String() {
					return d.Queued == 0, err
				}
			}
		}
		return false, err
	}); err != nil {
		return err
	}
	cli.Disconnect()
	if tr := *log.lines; len(tr) > 0 {
		return fmt.Errorf("retry receipts or decryption failures: %q", tr)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]string{"jid": jid.String()})
}

// poll calls check every 50 ms until it says done, for up to 20 s.
func poll(what string, check func() (bool, error)) error {
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		done, err := check()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("waited 20 s for %s", what)
		}
	}
}
