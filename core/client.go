// Package core is wasmeow's client: whatsmeow with its auth state in a
// kv backend (idbstore), its lifecycle (connect, QR rotation, pairing,
// reconnect, logout, destroy), the mapping of whatsmeow's events to the
// page's typed events, and the remote-sync and write-barrier paths. It
// builds and is tested natively; the browser binding (package wasm) gives
// it the browser's storage, locks and console and turns its events into JS.
package core

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/serial"
)

// Client states, as `client.state` reports them.
const (
	StateIdle         = "idle"
	StateConnecting   = "connecting"
	StateQR           = "qr"
	StateReady        = "ready"
	StateDisconnected = "disconnected"
	StateReconnecting = "reconnecting"
	StateLoggedOut    = "logged_out"
	StateDestroyed    = "destroyed"
)

// Config is what New needs besides the options.
type Config struct {
	Options Options
	// Storage holds the session; nil keeps it in memory.
	Storage Storage
	// Remote is the user's snapshot store (strategy remote), else nil.
	Remote RemoteStore
	// Log is whatsmeow's and the client's log; nil logs nothing.
	Log waLog.Logger
	// Emit is given every event, one at a time and in order, under the
	// session's page-queue lock (pagequeue.go): it must return before the
	// next event and must not call the client synchronously (a method that
	// emits, or a send, which waits for the queue at the write barrier,
	// would wait for itself); hand such work to another goroutine, as the
	// wasm binding does for every JS listener.
	Emit func(Event)
}

// Client is one session's storage, its whatsmeow client and its lifecycle.
type Client struct {
	opts   Options
	cfg    Config
	remote *remoteStore // nil unless strategy remote
	log    waLog.Logger

	op sync.Mutex // serialises connect, pairing, logout, wipe, destroy
	// display serialises message events from their redelivery mark to their
	// emit: after a cut two handlers (whatsmeow's old one running on) may
	// give the page the same message, and the copy marked redelivered must
	// reach the page second (emitMessage).
	display sync.Mutex
	// pages is the open session's page queue (nil before the first open).
	pages atomic.Pointer[pageQueue]

	mu             sync.Mutex
	sess           *session
	cli            *whatsmeow.Client
	handlerID      uint32
	sync           *remoteSync
	state          string
	destroyed      bool
	authenticated  bool          // authenticated was emitted for the current login
	qrSeen         chan struct{} // closed at the first QR of the current connection
	qrSeenOnce     *sync.Once
	qrStop         chan struct{} // closed to stop the current QR rotation
	reconnStop     chan struct{} // closed to stop the current reconnect loop
	reconnAttempts int           // since the last successful login
	lastCreds      Creds
	tokens         tokenIssuer   // our privacy tokens to the contacts we write to
	polls          pollOptions   // polls' option names, for votes (pollvotes.go)
	neverLoggedIn  bool          // the stored device has not logged in yet: its pairing may be unconfirmed
	pairLogin      chan struct{} // closed at the first login after a pairing
	// wantConnected: the page asked to be connected (connect()) and has not
	// asked otherwise since (disconnect(), destroy(), a logout, a storage
	// failure). Only then does a lost connection start a reconnect loop.
	wantConnected bool

	history  serial.Queue[historyNotice] // history-sync downloads (history.go)
	chunks   chunkRetries                // history chunks asked for again (historyretry.go)
	appState appStateSupervisor          // app-state sync checks (appstate_events.go)
	// syncWork serialises our sync goroutines (history downloads, app-state
	// retries): whatsmeow writes the device's fields from both, unlocked.
	syncWork    sync.Mutex
	syncBackoff []time.Duration // the package's syncBackoff when the client was made
}

// New validates the options and opens the session's storage (restoring it
// from the remote store first when that applies).
func New(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.Options.Validate(); err != nil {
		return nil, err
	}
	if (cfg.Remote != nil) != (cfg.Options.Strategy == StrategyRemote) {
		return nil, Errorf(CodeInvalidOption, "createClient: a remote store goes with strategy remote, and only with it")
	}
	if cfg.Storage == nil {
		cfg.Storage = MemoryStorage{}
	}
	if cfg.Log == nil {
		cfg.Log = waLog.Noop
	}
	if cfg.Emit == nil {
		cfg.Emit = func(Event) {}
	}
	c := &Client{opts: cfg.Options, cfg: cfg, log: cfg.Log, state: StateIdle, syncBackoff: syncBackoff}
	if cfg.Remote != nil {
		c.remote = &remoteStore{RemoteStore: cfg.Remote, clientID: cfg.Options.ClientID}
	}
	if err := c.open(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Options are the client's options.
func (c *Client) Options() Options { return c.opts }

// open opens the session's storage and builds the whatsmeow client on it.
func (c *Client) open(ctx context.Context) error {
	var failOnce sync.Once
	sess, err := openSession(ctx, c.opts.ClientID, c.cfg.Storage, c.remote, c.log.Sub("Store"), func(err error) {
		// Called from inside a socket write: act elsewhere, once per session.
		failOnce.Do(func() { go c.storeFailed(err) })
	}, func(err error) { c.emit(ErrorEvent{err}) })
	if err != nil {
		return err
	}
	cli := whatsmeow.NewClient(sess.device, syncFailureLog{Logger: c.log.Sub("Client"), onFail: c.resyncAfterNotification})
	cli.EnableAutoReconnect = false // reconnect.go does it, visibly
	// The plaintext of each decryption is stored with the session update that
	// produced it (idbstore commits both at once) and cleared once the page
	// has been given the event: a message the server redelivers after a cut
	// or a crash is then either given again from the buffer (its ack never
	// left) or recognised as done, never a decrypt failure of an old counter.
	cli.EnableDecryptedEventBuffer = true
	configureHTTPAndSync(cli)
	sess.pages.setEmit(c.cfg.Emit)
	c.pages.Store(sess.pages)
	c.mu.Lock()
	c.sess, c.cli = sess, cli
	c.handlerID = cli.AddEventHandlerWithSuccessStatus(c.handleEvent)
	c.lastCreds = c.credsLocked()
	c.mu.Unlock()
	if c.remote != nil {
		c.sync = startRemoteSync(sess, c.remote, c.opts.BackupInterval,
			func(info RemoteSessionSaved) { c.emit(info) },
			func(err error) { c.emit(ErrorEvent{WithCode(CodeRemoteSave, err)}) })
	}
	return nil
}

// emit gives e to the page, in turn behind the messages still waiting for
// their commit (pagequeue.go).
func (c *Client) emit(e Event) {
	if q := c.pages.Load(); q != nil {
		q.event(e)
		return
	}
	c.cfg.Emit(e)
}

func (c *Client) setState(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != StateDestroyed {
		c.state = s
	}
}

// State is the client's state (one of the State constants).
func (c *Client) State() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// currentSession is the open session, nil after destroy or a wipe.
func (c *Client) currentSession() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// current is the whatsmeow client (nil after a wipe), or the destroyed error.
func (c *Client) current() (*whatsmeow.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return nil, Errorf(CodeDestroyed, "client %q was destroyed; create a new one", c.opts.ClientID)
	}
	return c.cli, nil
}

// Alive is the destroyed error once Destroy ran, else nil.
func (c *Client) Alive() error {
	_, err := c.current()
	return err
}

// ensureOpen reopens fresh storage after a logout wiped the old one.
func (c *Client) ensureOpen(ctx context.Context) (*whatsmeow.Client, error) {
	cli, err := c.current()
	if err != nil || cli != nil {
		return cli, err
	}
	if err := c.open(ctx); err != nil {
		return nil, err
	}
	return c.current()
}

// IsConnected reports whether the socket is up.
func (c *Client) IsConnected() bool {
	cli, _ := c.current()
	return cli != nil && cli.IsConnected()
}

// IsLoggedIn reports whether the socket is up and logged in.
func (c *Client) IsLoggedIn() bool {
	cli, _ := c.current()
	return cli != nil && cli.IsLoggedIn()
}

// credsLocked reads the session's identifiers; never key material.
func (c *Client) credsLocked() Creds {
	if c.cli == nil || c.cli.Store == nil {
		return Creds{}
	}
	d := c.cli.Store
	out := Creds{Platform: d.Platform, PushName: d.PushName, BusinessName: d.BusinessName}
	if d.ID != nil {
		out.Me = strPtr(d.ID.String())
		out.Registered = true
	}
	out.LID = jidOrNil(d.LID)
	return out
}

// Creds are the session's identifiers.
func (c *Client) Creds() Creds {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.credsLocked()
}

// updateCreds emits creds.update with the fields that changed since the
// last emission (next is the new view; nil reads it).
func (c *Client) updateCreds(next *Creds) {
	c.mu.Lock()
	if next == nil {
		cur := c.credsLocked()
		next = &cur
	}
	changed := next.changedFrom(c.lastCreds)
	c.lastCreds = *next
	c.mu.Unlock()
	if len(changed) > 0 {
		c.emit(CredsUpdate{Changed: changed, Creds: *next})
	}
}

// recoverInto turns a panic in an event path into an error event, so the Go
// program survives it.
func (c *Client) recoverInto(where string) {
	if r := recover(); r != nil {
		c.log.Errorf("recovered panic in %s: %v", where, r)
		c.emit(ErrorEvent{Errorf(CodePanic, "internal error in %s (recovered): %v", where, r)})
	}
}

func jidOrNil(j types.JID) *string {
	if j.IsEmpty() {
		return nil
	}
	return strPtr(j.String())
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// exportSession is a snapshot of the paired session; see ExportSession.
func (c *Client) exportSession(ctx context.Context) ([]byte, error) {
	sess := c.currentSession()
	if sess == nil || sess.device == nil || sess.device.ID == nil {
		return nil, Errorf(CodeNotLoggedIn, "exportSession: session %q is not paired", c.opts.ClientID)
	}
	// Group commit may still hold writes: the snapshot must include them.
	if err := sess.container.Flush(ctx); err != nil {
		return nil, WithCode(CodeStoreFailed, fmt.Errorf("exportSession: flushing the store: %w", err))
	}
	_, blob, err := sess.capture(ctx)
	if err != nil {
		return nil, fmt.Errorf("exportSession of %q: %w", c.opts.ClientID, err)
	}
	return blob, nil
}

// ExportSession is a snapshot of the paired session (docs/SNAPSHOT.md): the
// bytes the remote strategy saves, which importSession or a remote store's
// extract bring back. It holds private keys: keep it as secret as the
// browser profile itself.
func (c *Client) ExportSession(ctx context.Context) ([]byte, error) {
	if err := c.Alive(); err != nil {
		return nil, err
	}
	c.op.Lock()
	defer c.op.Unlock()
	return c.exportSession(ctx)
}
