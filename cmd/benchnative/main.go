//go:build !js

// Command benchnative is the native side of `make bench-e2e`
// (web/scripts/bench-e2e.mjs): unmodified whatsmeow clients, each on its own
// sqlstore (sqlite, WAL) at a chosen synchronous level, driven against a
// cmd/fakewa process by JSON lines on stdin, one reply line on stdout per
// request. Requests run concurrently; replies carry the request's id.
//
//	{"id":1,"op":"init","api":"http://127.0.0.1:PORT","root":"BASE64"}
//	{"id":2,"op":"new","name":"a","db":"/tmp/a.db","sync":"FULL"}   FULL or OFF
//	{"id":3,"op":"pair","name":"a","phone":"15550001"}               link by QR
//	{"id":4,"op":"connect","name":"a"}                                 until Connected: {"ms"}
//	{"id":5,"op":"disconnect","name":"a"}
//	{"id":6,"op":"mark","name":"a"}                                    count texts from here
//	{"id":7,"op":"waitRecv","name":"a","n":300}                        {"first","last"}: unix ms
//	{"id":8,"op":"send","name":"a","to":"15550002","n":100,"inflight":10}  {"ms"}
//	{"id":9,"op":"mem"}                                                {"rss","heap"}: bytes
//	{"id":10,"op":"bloat","name":"a","n":1000}   a big account: n×5 contacts, n×2 sessions,
//	                                              n×0.3 sender keys, n×20 message secrets and MACs
//	{"id":11,"op":"snapshot","name":"a","clientId":"big","out":"/tmp/big.snapshot"}
//	                                              the client's device as a wasmeow snapshot (disconnects it)
//
// "new" answers {"openMs"}: opening the database and loading the device.
//
// Every reply is {"id", ...} or {"id", "error"}.
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/fakewa"
	"github.com/wasmeow/wasmeow/sessionconv"
)

type request struct {
	ID       int    `json:"id"`
	Op       string `json:"op"`
	API      string `json:"api"`
	Root     string `json:"root"`
	Name     string `json:"name"`
	DB       string `json:"db"`
	Sync     string `json:"sync"`
	Phone    string `json:"phone"`
	To       string `json:"to"`
	N        int    `json:"n"`
	Inflight int    `json:"inflight"`
	ClientID string `json:"clientId"`
	Out      string `json:"out"`
}

// client is one whatsmeow client and the texts it received since mark.
type client struct {
	cli       *whatsmeow.Client
	container *sqlstore.Container
	db        string
	events    chan any

	mu       sync.Mutex
	received int
	first    time.Time
	last     time.Time
	grew     chan struct{}
}

type driver struct {
	mu      sync.Mutex
	apiHost string
	ctl     fakewa.Control
	clients map[string]*client
}

func main() {
	d := &driver{clients: map[string]*client{}}
	out := json.NewEncoder(os.Stdout)
	var outMu sync.Mutex
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	var wg sync.WaitGroup
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "benchnative: bad request:", err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, err := d.handle(req)
			if reply == nil {
				reply = map[string]any{}
			}
			reply["id"] = req.ID
			if err != nil {
				reply["error"] = err.Error()
			}
			outMu.Lock()
			_ = out.Encode(reply)
			outMu.Unlock()
		}()
	}
	wg.Wait()
	d.mu.Lock()
	for _, c := range d.clients {
		c.cli.Disconnect()
		_ = c.container.Close()
	}
	d.mu.Unlock()
}

func (d *driver) client(name string) (*client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.clients[name]
	if c == nil {
		return nil, fmt.Errorf("no client %q", name)
	}
	return c, nil
}

func (d *driver) handle(req request) (map[string]any, error) {
	ctx := context.Background()
	switch req.Op {
	case "init":
		key, err := base64.StdEncoding.DecodeString(req.Root)
		if err != nil || len(key) != 32 {
			return nil, errors.New("root must be 32 bytes, base64")
		}
		u, err := url.Parse(req.API)
		if err != nil {
			return nil, err
		}
		whatsmeow.WACertPubKey = [32]byte(key)
		fakewa.UseVersion(fakewa.CurrentVersion)
		d.mu.Lock()
		d.apiHost, d.ctl = u.Host, fakewa.Control{Base: req.API}
		d.mu.Unlock()
		return nil, nil
	case "new":
		start := time.Now()
		if err := d.newClient(ctx, req); err != nil {
			return nil, err
		}
		return map[string]any{"openMs": ms(time.Since(start))}, nil
	case "mem":
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return map[string]any{"rss": rss(), "heap": ms.HeapAlloc}, nil
	}
	c, err := d.client(req.Name)
	if err != nil {
		return nil, err
	}
	switch req.Op {
	case "pair":
		return nil, d.pair(c, req.Phone)
	case "connect":
		start := time.Now()
		if err := c.cli.Connect(); err != nil {
			return nil, err
		}
		if _, err := c.wait(30*time.Second, func(e any) bool { _, ok := e.(*events.Connected); return ok }); err != nil {
			return nil, err
		}
		return map[string]any{"ms": ms(time.Since(start))}, nil
	case "disconnect":
		c.cli.Disconnect()
		return nil, nil
	case "mark":
		c.mu.Lock()
		c.received, c.first, c.last = 0, time.Time{}, time.Time{}
		c.mu.Unlock()
		return nil, nil
	case "waitRecv":
		return c.waitReceived(req.N, 120*time.Second)
	case "bloat":
		return nil, bloat(ctx, c.cli.Store, req.N)
	case "snapshot":
		c.cli.Disconnect()
		blob, _, _, err := sessionconv.SQLiteToSnapshot(ctx, c.db, c.cli.Store.GetJID(), req.ClientID)
		if err != nil {
			return nil, err
		}
		return map[string]any{"bytes": len(blob)}, os.WriteFile(req.Out, blob, 0o600)
	case "send":
		start := time.Now()
		if err := c.send(ctx, req.To, req.N, max(1, req.Inflight)); err != nil {
			return nil, err
		}
		return map[string]any{"ms": ms(time.Since(start))}, nil
	}
	return nil, fmt.Errorf("unknown op %q", req.Op)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// newClient opens (or creates) the sqlite database and a client on its
// first device. sync is the sqlite synchronous level: FULL makes every
// commit durable before it returns (IndexedDB's strict durability), OFF
// leaves it to the OS (what fakewa's own tests use).
func (d *driver) newClient(ctx context.Context, req request) error {
	if req.Sync != "FULL" && req.Sync != "OFF" {
		return fmt.Errorf("sync must be FULL or OFF, got %q", req.Sync)
	}
	d.mu.Lock()
	host := d.apiHost
	d.mu.Unlock()
	if host == "" {
		return errors.New("init first")
	}
	container, err := sqlstore.New(ctx, "sqlite3", "file:"+req.DB+"?_foreign_keys=on&_busy_timeout=5000&_journal_mode=WAL&_synchronous="+req.Sync, waLog.Noop)
	if err != nil {
		return err
	}
	dev, err := container.GetFirstDevice(ctx)
	if err != nil {
		return err
	}
	cli := whatsmeow.NewClient(dev, waLog.Noop)
	httpc := fakewa.HTTPClientFor(host)
	cli.SetPreLoginHTTPClient(httpc)
	cli.SetWebsocketHTTPClient(httpc)
	cli.SetMediaHTTPClient(httpc)
	c := &client{cli: cli, container: container, db: req.DB, events: make(chan any, 100), grew: make(chan struct{}, 1)}
	cli.AddEventHandler(func(evt any) {
		if m, ok := evt.(*events.Message); ok && !m.Info.IsFromMe {
			now := time.Now()
			c.mu.Lock()
			if c.received == 0 {
				c.first = now
			}
			c.received++
			c.last = now
			c.mu.Unlock()
			select {
			case c.grew <- struct{}{}:
			default:
			}
			return
		}
		select {
		case c.events <- evt:
		default: // nobody waits for these now
		}
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.clients[req.Name] != nil {
		return fmt.Errorf("client %q exists", req.Name)
	}
	d.clients[req.Name] = c
	return nil
}

func (c *client) wait(timeout time.Duration, match func(any) bool) (any, error) {
	deadline := time.After(timeout)
	for {
		select {
		case evt := <-c.events:
			if lo, ok := evt.(*events.LoggedOut); ok {
				return nil, fmt.Errorf("logged out: %v", lo.Reason)
			}
			if match(evt) {
				return evt, nil
			}
		case <-deadline:
			return nil, fmt.Errorf("waited %s", timeout)
		}
	}
}

func (d *driver) pair(c *client, phone string) error {
	if err := c.cli.Connect(); err != nil {
		return err
	}
	evt, err := c.wait(20*time.Second, func(e any) bool { _, ok := e.(*events.QR); return ok })
	if err != nil {
		return fmt.Errorf("QR: %w", err)
	}
	if err := d.ctl.Call("POST", "/api/accounts/"+phone+"/scan", map[string]string{"qr": evt.(*events.QR).Codes[0]}, nil); err != nil {
		return err
	}
	if _, err := c.wait(30*time.Second, func(e any) bool { _, ok := e.(*events.Connected); return ok }); err != nil {
		return fmt.Errorf("connected after pairing: %w", err)
	}
	jid := c.cli.Store.GetJID().String()
	// Paired once nothing is left queued (the phone's key share is acknowledged).
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		var accounts []fakewa.AccountInfo
		if err := d.ctl.Call("GET", "/api/accounts", nil, &accounts); err != nil {
			return err
		}
		for _, a := range accounts {
			for _, dev := range a.Devices {
				if dev.JID == jid && dev.Queued == 0 {
					return nil
				}
			}
		}
	}
	return fmt.Errorf("%s still has stanzas queued 20 s after pairing", jid)
}

func (c *client) waitReceived(n int, timeout time.Duration) (map[string]any, error) {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		got, first, last := c.received, c.first, c.last
		c.mu.Unlock()
		if got >= n {
			return map[string]any{"first": first.UnixMilli(), "last": last.UnixMilli(), "n": got}, nil
		}
		select {
		case <-c.grew:
		case <-deadline:
			return nil, fmt.Errorf("received %d of %d texts in %s", got, n, timeout)
		}
	}
}

// send sends n texts to the phone number to, inflight at a time; each
// SendMessage returns once the server acknowledged it.
func (c *client) send(ctx context.Context, to string, n, inflight int) error {
	jid := types.NewJID(to, types.DefaultUserServer)
	sem := make(chan struct{}, inflight)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := c.cli.SendMessage(ctx, jid, &waE2E.Message{Conversation: proto.String(fmt.Sprintf("native %d", i))})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(slicesOf(errs)...)
}

func slicesOf(ch chan error) (out []error) {
	for err := range ch {
		out = append(out, err)
	}
	return out
}

// rss is the process's resident set (Linux /proc), 0 elsewhere.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
