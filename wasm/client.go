//go:build js

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"
	"google.golang.org/protobuf/proto"

	"github.com/wasmeow/wasmeow/jsbridge"
)

// Error codes of client methods, beyond jsbridge's.
const (
	codeNotConnected  = "not_connected"
	codeNotLoggedIn   = "not_logged_in"
	codeAlreadyPaired = "already_paired"
	codeInvalidPhone  = "invalid_phone"
	codeInvalidJID    = "invalid_jid"
	codePairing       = "pairing_failed"
	codeConnect       = "connect_failed"
	codeSend          = "send_failed"
	codeLogout        = "logout_failed"
	codeSessionInUse  = "session_in_use"
	codeStoreFailed   = "store_failed"
	codeSessionExists = "session_exists"
)

// Client states, as `client.state` reports them.
const (
	stateIdle         = "idle"
	stateConnecting   = "connecting"
	stateQR           = "qr"
	stateReady        = "ready"
	stateDisconnected = "disconnected"
	stateLoggedOut    = "logged_out"
	stateDestroyed    = "destroyed"
)

// client is one createClient(): a session's storage, its whatsmeow client
// and the JS handle the page holds.
type client struct {
	opts    *options
	log     waLog.Logger
	emitter *jsbridge.Emitter

	op sync.Mutex // serialises connect, pairing, logout, wipe, destroy

	mu             sync.Mutex
	sess           *session
	cli            *whatsmeow.Client
	handlerID      uint32
	remote         *remoteSync
	state          string
	destroyed      bool
	authenticated  bool          // authenticated was emitted for the current login
	qrSeen         chan struct{} // closed at the first QR of the current connection
	qrSeenOnce     *sync.Once
	qrStop         chan struct{} // closed to stop the current QR rotation
	reconnStop     chan struct{} // closed to stop the current reconnect loop
	reconnAttempts int           // since the last successful login
	lastCreds      map[string]any
	tokens         tokenIssuer   // our privacy tokens to the contacts we write to
	neverLoggedIn  bool          // the stored device has not logged in yet: its pairing may be unconfirmed
	pairLogin      chan struct{} // closed at the first login after a pairing
	// wantConnected: the page asked to be connected (connect()) and has not
	// asked otherwise since (disconnect(), destroy(), a logout, a storage
	// failure). Only then does a lost connection start a reconnect loop.
	wantConnected bool
}

func newClient(ctx context.Context, o *options) (*client, error) {
	c := &client{opts: o, emitter: jsbridge.NewEmitter(), state: stateIdle}
	c.log = newLogger(o.clientID, o.logLevel)
	c.emitter.OnListenerError = func(event string, err error) {
		c.log.Errorf("a listener of %q threw: %v", event, err)
		if event != "error" {
			c.emit("error", jsbridge.Errorf(jsbridge.CodeJS, "a listener of %q threw: %w", event, err))
		}
	}
	if err := c.open(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// open opens the session's storage and builds the whatsmeow client on it.
func (c *client) open(ctx context.Context) error {
	var failOnce sync.Once
	sess, err := openSession(ctx, c.opts, c.log.Sub("Store"), func(err error) {
		// Called from inside a socket write: act elsewhere, once per session.
		failOnce.Do(func() { go c.storeFailed(err) })
	}, func(err error) { c.emit("error", err) })
	if err != nil {
		return err
	}
	cli := whatsmeow.NewClient(sess.device, c.log.Sub("Client"))
	cli.EnableAutoReconnect = false // reconnect.go does it, visibly
	// The plaintext of each decryption is stored with the session update that
	// produced it (idbstore commits both at once) and cleared once the page
	// has been given the event: a message the server redelivers after a cut
	// or a crash is then either given again from the buffer (its ack never
	// left) or recognised as done, never a decrypt failure of an old counter.
	cli.EnableDecryptedEventBuffer = true
	wrapEventBuffer(sess.device)
	c.mu.Lock()
	c.sess, c.cli = sess, cli
	c.handlerID = cli.AddEventHandlerWithSuccessStatus(c.handleEvent)
	c.lastCreds = c.credsLocked()
	c.mu.Unlock()
	if c.opts.strategy == strategyRemote {
		c.remote = startRemoteSync(sess, c.opts.backupInterval,
			func(info map[string]any) { c.emit("remote_session_saved", info) },
			func(err error) { c.emit("error", jsbridge.WithCode("remote_save_failed", err)) })
	}
	return nil
}

func (c *client) emit(event string, payload any) { c.emitter.Emit(event, payload) }

// storeFailed handles a commit that failed under the write barrier (quota,
// a closed database): the frame that needed it was not sent, so the server
// still holds what was not stored. The connection is closed rather than left
// half-working; the data stays as it was, and a later connect (after the
// page freed space or reloaded) gets the undelivered messages again.
func (c *client) storeFailed(err error) {
	defer c.recoverInto("store failure")
	c.log.Errorf("store commit failed, disconnecting: %v", err)
	c.emit("error", jsbridge.WithCode(codeStoreFailed, fmt.Errorf("session %q could not be stored, so nothing of it was acknowledged and the connection is closed: %w", c.opts.clientID, err)))
	cli, _ := c.current()
	if cli == nil {
		return
	}
	c.mu.Lock()
	c.wantConnected = false
	c.mu.Unlock()
	c.stopQR()
	c.stopReconnect()
	cli.Disconnect()
	c.reportDisconnected(codeStoreFailed, errString(err))
}

func (c *client) setState(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateDestroyed {
		c.state = s
	}
}

// exportSession is a snapshot of the paired session (docs/SNAPSHOT.md): the
// bytes the remote strategy saves, which wm.importSession or a remote
// store's extract bring back. It holds private keys: keep it as secret as
// the browser profile itself.
func (c *client) exportSession(ctx context.Context) ([]byte, error) {
	c.op.Lock()
	defer c.op.Unlock()
	sess := c.currentSession()
	if sess == nil || sess.device == nil || sess.device.ID == nil {
		return nil, jsbridge.Errorf(codeNotLoggedIn, "exportSession: session %q is not paired", c.opts.clientID)
	}
	// Group commit may still hold writes: the snapshot must include them.
	if err := sess.container.Flush(ctx); err != nil {
		return nil, jsbridge.WithCode(codeStoreFailed, fmt.Errorf("exportSession: flushing the store: %w", err))
	}
	_, blob, err := sess.capture(ctx)
	if err != nil {
		return nil, fmt.Errorf("exportSession of %q: %w", c.opts.clientID, err)
	}
	return blob, nil
}

// currentSession is the open session, nil after destroy or a wipe.
func (c *client) currentSession() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

func (c *client) current() (*whatsmeow.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return nil, jsbridge.Errorf(jsbridge.CodeDestroyed, "client %q was destroyed; create a new one", c.opts.clientID)
	}
	return c.cli, nil
}

// ensureOpen reopens fresh storage after a logout wiped the old one.
func (c *client) ensureOpen(ctx context.Context) (*whatsmeow.Client, error) {
	cli, err := c.current()
	if err != nil || cli != nil {
		return cli, err
	}
	if err := c.open(ctx); err != nil {
		return nil, err
	}
	return c.current()
}

// connect opens the websocket. An unpaired device then emits qr events;
// a paired one emits authenticated and ready. Resolves once the socket is up.
func (c *client) connect(ctx context.Context) error {
	c.op.Lock()
	defer c.op.Unlock()
	return c.connectLocked(ctx)
}

func (c *client) connectLocked(ctx context.Context) error {
	cli, err := c.ensureOpen(ctx)
	if err != nil {
		return err
	}
	if cli.IsConnected() {
		return nil
	}
	c.stopReconnect() // the page's connect takes over from a reconnect loop
	c.mu.Lock()
	c.wantConnected = true
	c.mu.Unlock()
	if err := applyGlobals(c.opts); err != nil {
		return err
	}
	applyWAVersion(ctx, c.opts.socketURL, c.log)
	if cli.Store.ID == nil {
		c.mu.Lock()
		c.qrSeen, c.qrSeenOnce = make(chan struct{}), new(sync.Once)
		c.mu.Unlock()
	} else if !c.loggedInOnce(ctx, cli) {
		c.mu.Lock()
		c.neverLoggedIn = true
		c.mu.Unlock()
	}
	c.setState(stateConnecting)
	if err := cli.ConnectContext(withSocketOwner(ctx, c.currentSession)); err != nil {
		c.setState(stateDisconnected)
		return jsbridge.WithCode(codeConnect, fmt.Errorf("connect: %w", err))
	}
	return nil
}

// loggedInOnce tells whether the stored device ever completed a login: the
// first one uploads its prekeys, which a device whose pairing the service
// never confirmed cannot have done. (A crash in the second between that
// login and the upload reads as unconfirmed too; it is then treated as a
// failed pairing, which is what the page has to do about it anyway.)
func (c *client) loggedInOnce(ctx context.Context, cli *whatsmeow.Client) bool {
	n, err := cli.Store.PreKeys.UploadedPreKeyCount(ctx)
	return err != nil || n > 0
}

// startQR rotates the codes of a pair-device request as the QR channel of
// whatsmeow does (60 s for the first, 20 s for each next, unless qrTimeoutMs
// says otherwise), emitting each as a qr event; when they run out (or
// qrMaxRetries is reached) the client disconnects and reports qr_timeout, as
// the server would close the socket anyway. It is our own loop rather
// than whatsmeow's GetQRChannel because that one cannot be stopped from
// outside: after a disconnect() its stale timer would disconnect the next
// connection.
func (c *client) startQR(cli *whatsmeow.Client, codes []string) {
	c.stopQR()
	stop := make(chan struct{})
	c.mu.Lock()
	c.qrStop = stop
	seen, once := c.qrSeen, c.qrSeenOnce
	c.mu.Unlock()
	go func() {
		defer c.recoverInto("qr")
		if n := c.opts.qrMaxRetries; n > 0 && len(codes) > n+1 {
			codes = codes[:n+1]
		}
		for i, code := range codes {
			timeout := 20 * time.Second
			if i == 0 {
				timeout = 60 * time.Second
			}
			if c.opts.qrTimeout > 0 {
				timeout = c.opts.qrTimeout
			}
			select {
			case <-stop:
				return
			default:
			}
			c.setState(stateQR)
			if once != nil {
				once.Do(func() { close(seen) })
			}
			c.emit("qr", map[string]any{"code": pagePlatform.qrCode(code), "timeoutMs": timeout.Milliseconds()})
			select {
			case <-stop:
				return
			case <-time.After(timeout):
			}
		}
		c.mu.Lock()
		current := c.qrStop == stop && c.cli == cli
		if current {
			c.qrStop = nil
		}
		c.mu.Unlock()
		if !current {
			return
		}
		cli.Disconnect()
		c.emit("auth_failure", map[string]any{"reason": "qr_timeout", "message": "no QR code was scanned before the codes ran out"})
		c.reportDisconnected("qr_timeout", "")
	}()
}

// stopQR ends the current QR rotation, if any.
func (c *client) stopQR() {
	c.mu.Lock()
	stop := c.qrStop
	c.qrStop = nil
	c.mu.Unlock()
	if stop != nil {
		close(stop)
	}
}

// requestPairingCode asks the server for a code to type on the phone; it
// connects first when needed and resolves only once the server accepted.
func (c *client) requestPairingCode(ctx context.Context, phone string) (string, error) {
	digits := nonDigits.ReplaceAllString(phone, "")
	if len(digits) < 7 || len(digits) > 15 || strings.HasPrefix(digits, "0") {
		return "", jsbridge.Errorf(codeInvalidPhone, "requestPairingCode: %q is not a phone number in international format (7 to 15 digits with the country code, no leading 0)", phone)
	}
	c.op.Lock()
	defer c.op.Unlock()
	if err := c.connectLocked(ctx); err != nil {
		return "", err
	}
	cli, err := c.current()
	if err != nil {
		return "", err
	}
	if cli.Store.ID != nil {
		return "", jsbridge.Errorf(codeAlreadyPaired, "requestPairingCode: this session is already paired as %s", cli.Store.ID)
	}
	c.mu.Lock()
	seen := c.qrSeen
	c.mu.Unlock()
	// The server is ready to pair once it has sent the first QR refs.
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	select {
	case <-seen:
	case <-wait.Done():
		return "", jsbridge.Errorf(codePairing, "requestPairingCode: the server did not start pairing within 30 s")
	}
	code, err := cli.PairPhone(ctx, digits, true, pagePlatform.clientType, pagePlatform.displayName())
	if err != nil {
		if errors.Is(err, whatsmeow.ErrPhoneNumberTooShort) || errors.Is(err, whatsmeow.ErrPhoneNumberIsNotInternational) {
			return "", jsbridge.Errorf(codeInvalidPhone, "requestPairingCode: %w", err)
		}
		var iqErr *whatsmeow.IQError
		if errors.As(err, &iqErr) && (iqErr.Code == 400 || iqErr.Code == 404) {
			return "", jsbridge.Errorf(codeInvalidPhone, "requestPairingCode: the server rejected %s: %w", digits, err)
		}
		return "", jsbridge.Errorf(codePairing, "requestPairingCode: %w", err)
	}
	c.emit("pairing_code", map[string]any{"code": code, "phone": digits})
	return code, nil
}

func (c *client) sendText(ctx context.Context, to, text string) (string, error) {
	cli, err := c.current()
	if err != nil {
		return "", err
	}
	if cli == nil || cli.Store.ID == nil {
		return "", jsbridge.Errorf(codeNotLoggedIn, "sendText: not logged in")
	}
	if !cli.IsConnected() {
		return "", jsbridge.Errorf(codeNotConnected, "sendText: not connected; call connect() and wait for ready")
	}
	jid, err := parseJID(to)
	if err != nil {
		return "", err
	}
	if text == "" {
		return "", jsbridge.Errorf(jsbridge.CodeInvalidOption, "sendText: text must not be empty")
	}
	if err := checkOutgoingText(text); err != nil {
		return "", err
	}
	resp, err := sendReaching(ctx, cli, jid, &waE2E.Message{Conversation: proto.String(text)})
	if err != nil {
		if why := sendFailureReason(err); why != "" {
			return "", jsbridge.Errorf(codeSend, "sendText to %s: %s: %w", jid, why, err)
		}
		return "", jsbridge.Errorf(codeSend, "sendText to %s: %w", jid, err)
	}
	c.tokens.issueAfterSend(cli, jid, c.log.Warnf)
	return resp.ID, nil
}

// parseJID reads a chat argument (jids.go), with the page's error code.
func parseJID(s string) (types.JID, error) {
	jid, err := normalizeJID(s)
	if err != nil {
		return types.JID{}, jsbridge.WithCode(codeInvalidJID, err)
	}
	return jid, nil
}

// logout tells the server to remove this device, then wipes the session.
func (c *client) logout(ctx context.Context) error {
	c.op.Lock()
	defer c.op.Unlock()
	cli, err := c.current()
	if err != nil {
		return err
	}
	if cli == nil || cli.Store.ID == nil {
		return jsbridge.Errorf(codeNotLoggedIn, "logout: not logged in")
	}
	if !cli.IsConnected() {
		return jsbridge.Errorf(codeNotConnected, "logout: not connected; the server must confirm a logout, so connect() first")
	}
	if err := cli.Logout(ctx); err != nil {
		return jsbridge.Errorf(codeLogout, "logout: %w", err)
	}
	return c.wipeLocked(ctx, "logout", true)
}

// wipeLocked deletes the session (local data, and the remote copy when the
// logout is confirmed), then emits creds.update and logged_out. The next
// connect starts over with a fresh device and a QR.
func (c *client) wipeLocked(ctx context.Context, reason string, confirmed bool) error {
	c.mu.Lock()
	sess, cli, remote, id := c.sess, c.cli, c.remote, c.handlerID
	c.sess, c.cli, c.remote = nil, nil, nil
	c.authenticated = false
	c.neverLoggedIn = false
	c.wantConnected = false
	c.mu.Unlock()
	if sess == nil {
		return nil // already wiped
	}
	c.stopQR()
	c.stopReconnect()
	var errs []error
	cli.RemoveEventHandler(id)
	cli.Disconnect()
	if remote != nil {
		remote.close(ctx, false)
	}
	if err := sess.wipe(ctx); err != nil {
		errs = append(errs, err)
	}
	if confirmed && c.opts.strategy == strategyRemote {
		if err := deleteRemote(ctx, c.opts); err != nil {
			errs = append(errs, err)
		}
	}
	c.setState(stateLoggedOut)
	c.updateCreds(map[string]any{"me": nil, "lid": nil, "platform": "", "pushName": "", "registered": false})
	c.emit("logged_out", map[string]any{"reason": reason})
	if err := errors.Join(errs...); err != nil {
		c.emit("error", jsbridge.WithCode("wipe_failed", fmt.Errorf("wiping session %q after %s: %w", c.opts.clientID, reason, err)))
		return err
	}
	return nil
}

func (c *client) disconnect(ctx context.Context) error {
	c.mu.Lock()
	reconnecting := c.reconnStop != nil
	c.wantConnected = false
	c.mu.Unlock()
	// Before taking op: a reconnect dial in flight holds it, and stopping
	// the loop cancels that dial.
	c.stopReconnect()
	c.op.Lock()
	defer c.op.Unlock()
	cli, err := c.current()
	if err != nil {
		return err
	}
	if cli == nil {
		return nil
	}
	wasConnected := cli.IsConnected() || reconnecting
	c.stopQR()
	cli.Disconnect()
	c.mu.Lock()
	remote, sess := c.remote, c.sess
	c.mu.Unlock()
	if remote != nil {
		if _, err := remote.save(ctx); err != nil {
			c.emit("error", jsbridge.WithCode("remote_save_failed", err))
		}
	}
	if sess != nil {
		if err := sess.container.Flush(ctx); err != nil {
			return fmt.Errorf("disconnect: flushing the store: %w", err)
		}
	}
	if wasConnected {
		c.reportDisconnected("client", "")
	}
	return nil
}

// destroy disconnects, flushes and closes the storage (keeping the
// session), releases the tab lock and makes every later call fail.
func (c *client) destroy(ctx context.Context) error {
	c.mu.Lock()
	c.wantConnected = false
	c.mu.Unlock()
	c.stopReconnect() // before op, as in disconnect
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	if c.destroyed {
		c.mu.Unlock()
		return nil
	}
	c.destroyed = true
	sess, cli, remote, id := c.sess, c.cli, c.remote, c.handlerID
	c.sess, c.cli, c.remote = nil, nil, nil
	c.state = stateDestroyed
	c.mu.Unlock()
	unregisterClient(c)
	c.stopQR()
	c.stopReconnect()
	var errs []error
	if cli != nil {
		cli.RemoveEventHandler(id)
		cli.Disconnect()
	}
	if remote != nil {
		if err := remote.close(ctx, true); err != nil {
			errs = append(errs, err)
		}
	}
	if sess != nil {
		if err := sess.close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	c.emitter.RemoveAll()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("destroy %q: %w", c.opts.clientID, err)
	}
	return nil
}

// creds are the session's identifiers; never key material.
func (c *client) credsLocked() map[string]any {
	out := map[string]any{"me": nil, "lid": nil, "platform": "", "pushName": "", "businessName": "", "registered": false}
	if c.cli == nil || c.cli.Store == nil {
		return out
	}
	d := c.cli.Store
	if d.ID != nil {
		out["me"] = d.ID.String()
		out["registered"] = true
	}
	if !d.LID.IsEmpty() {
		out["lid"] = d.LID.String()
	}
	out["platform"] = d.Platform
	out["pushName"] = d.PushName
	out["businessName"] = d.BusinessName
	return out
}

func (c *client) creds() map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.credsLocked()
}

// updateCreds emits creds.update with the fields that changed since the
// last emission (next is the new view; nil computes it).
func (c *client) updateCreds(next map[string]any) {
	c.mu.Lock()
	if next == nil {
		next = c.credsLocked()
	} else {
		next["businessName"] = ""
	}
	var changed []string
	for k, v := range next {
		if c.lastCreds[k] != v {
			changed = append(changed, k)
		}
	}
	c.lastCreds = next
	c.mu.Unlock()
	if len(changed) > 0 {
		c.emit("creds.update", map[string]any{"changed": changed, "creds": next})
	}
}

// handleEvent maps whatsmeow's events to the page's. whatsmeow calls it
// synchronously, so slow work (wiping) goes to its own goroutine. It returns
// false only for a message the page could not be given (whatsmeow then
// neither clears its buffer nor acknowledges it, so it comes again).
func (c *client) handleEvent(evt any) (handled bool) {
	handled = true
	defer c.recoverInto("event")
	switch v := evt.(type) {
	case *events.QR:
		c.mu.Lock()
		cli := c.cli
		c.mu.Unlock()
		c.startQR(cli, v.Codes)
	case *events.QRScannedWithoutMultidevice:
		c.emit("auth_failure", map[string]any{"reason": "scanned_without_multidevice", "message": "the QR code was scanned by a phone without multi-device"})
	case *events.PairSuccess:
		c.stopQR()
		c.mu.Lock()
		c.authenticated = true
		c.neverLoggedIn = true // until the login after the 515 restart
		loggedIn := make(chan struct{})
		c.pairLogin = loggedIn
		cli := c.cli
		c.mu.Unlock()
		c.watchPairedLogin(cli, loggedIn)
		c.emit("authenticated", map[string]any{"me": v.ID.String(), "lid": jidOrNil(v.LID), "platform": v.Platform, "businessName": v.BusinessName, "method": "pairing"})
		c.updateCreds(nil)
	case *events.PairError:
		c.stopQR()
		c.emit("auth_failure", map[string]any{"reason": "pair_error", "message": errString(v.Error)})
	case *events.Connected:
		c.stopQR()
		c.mu.Lock()
		first := !c.authenticated
		c.authenticated = true
		c.reconnAttempts = 0
		c.neverLoggedIn = false
		if c.pairLogin != nil {
			close(c.pairLogin)
			c.pairLogin = nil
		}
		if c.cli != nil {
			wrapEventBuffer(c.cli.Store) // pairing replaced the device's stores
		}
		c.mu.Unlock()
		if first {
			cr := c.creds()
			c.emit("authenticated", map[string]any{"me": cr["me"], "lid": cr["lid"], "platform": cr["platform"], "businessName": cr["businessName"], "method": "stored"})
		}
		c.setState(stateReady)
		c.updateCreds(nil)
		c.emit("ready", map[string]any{"me": c.creds()["me"]})
	case *events.Disconnected:
		c.stopQR()
		c.reportDisconnected("connection_lost", "")
		c.mu.Lock()
		cli := c.cli
		c.mu.Unlock()
		c.startReconnect(cli)
	case *events.KeepAliveTimeout:
		// whatsmeow only reports this while its own reconnect is off: after
		// KeepAliveMaxFailTime without an answer the socket is dead.
		if time.Since(v.LastSuccess) > whatsmeow.KeepAliveMaxFailTime {
			c.mu.Lock()
			cli := c.cli
			c.mu.Unlock()
			if cli != nil {
				cli.Disconnect()
				c.reportDisconnected("keepalive_timeout", fmt.Sprintf("no answer to keepalives since %s", v.LastSuccess.Format(time.RFC3339)))
				c.startReconnect(cli)
			}
		}
	case *events.StreamReplaced:
		c.reportDisconnected("replaced", "another client connected with this session")
	case *events.LoggedOut:
		c.stopQR()
		c.mu.Lock()
		unconfirmed := v.OnConnect && v.Reason.IsLoggedOut() && c.neverLoggedIn
		c.mu.Unlock()
		reason := "server_logout"
		switch {
		case unconfirmed:
			// The device was stored at pairing, but the service never confirmed
			// it (the page was closed or the answer lost right after the scan):
			// not a logout by the user. Start over with a new QR code.
			reason = "pairing_unconfirmed"
			c.emit("auth_failure", map[string]any{"reason": "pairing_unconfirmed", "message": "the last pairing was interrupted before WhatsApp confirmed it, so this device was never linked; a new QR code follows"})
		case v.OnConnect:
			reason = "server_logout:" + v.Reason.String()
			c.emit("auth_failure", map[string]any{"reason": "logged_out", "message": v.Reason.String()})
		}
		go func() {
			defer c.recoverInto("logged_out")
			c.op.Lock()
			defer c.op.Unlock()
			ctx := context.Background()
			if err := c.wipeLocked(ctx, reason, true); err == nil && unconfirmed {
				if err := c.connectLocked(ctx); err != nil {
					c.emit("error", jsbridge.WithCode(codeConnect, fmt.Errorf("starting over after an unconfirmed pairing: %w", err)))
				}
			}
		}()
	case *events.ConnectFailure:
		c.emit("auth_failure", map[string]any{"reason": "connect_failure", "message": fmt.Sprintf("%s: %s", v.Reason, v.Message)})
		c.refused("connect_failure")
	case *events.TemporaryBan:
		c.emit("auth_failure", map[string]any{"reason": "temporary_ban", "message": v.String()})
		c.refused("temporary_ban")
	case *events.ClientOutdated:
		refused := store.GetWAVersion().String()
		forgetRelayVersions()
		c.emit("auth_failure", map[string]any{"reason": "client_outdated", "version": refused, "message": fmt.Sprintf("the server refused WhatsApp Web version %s as outdated (405): pass a current version as loadWasmeow({waVersion: '2.3000.x'}) or connect through a relay that serves GET /version", refused)})
		c.refused("client_outdated")
	case *events.PushNameSetting:
		c.updateCreds(nil)
	case *events.IdentityChange:
		// A new device of theirs needs our token again; the change may name
		// them by LID while the token was issued after a send by number.
		c.tokens.forget(v.JID)
		pn, lid := c.lookUpForms(v.JID.ToNonAD(), types.EmptyJID)
		for _, form := range []types.JID{pn, lid} {
			if !form.IsEmpty() {
				c.tokens.forget(form)
			}
		}

	case *events.Message:
		return c.emitMessage(v)
	}
	return true
}

// refused ends a connection the service refused at login: whatsmeow closes
// the socket as expected and emits no Disconnected, so the state and the
// page are told here. No reconnect: the same login would be refused again.
func (c *client) refused(reason string) {
	c.mu.Lock()
	c.wantConnected = false
	c.mu.Unlock()
	c.stopQR()
	c.reportDisconnected(reason, "")
}

// reportDisconnected sets the state and tells the page why the socket is
// gone (message: more detail, left out when empty).
func (c *client) reportDisconnected(reason, message string) {
	c.setState(stateDisconnected)
	if message == "" {
		c.emit("disconnected", map[string]any{"reason": reason})
		return
	}
	c.emit("disconnected", map[string]any{"reason": reason, "message": message})
}

func (c *client) emitMessage(v *events.Message) bool {
	m := v.Message
	redelivered := c.isRedelivery(v) // before any filter, so no stale mark stays behind
	// Protocol messages (app-state key shares, history-sync notices, ...) are
	// the phone talking to its companions, not chat messages.
	if m.GetProtocolMessage() != nil {
		return true
	}
	text := m.GetConversation()
	if text == "" {
		text = m.GetExtendedTextMessage().GetText()
	}
	chat, chatAlt := c.bothForms(v.Info.Chat, c.chatAlt(v.Info))
	sender, senderAlt := c.bothForms(v.Info.Sender, v.Info.SenderAlt)
	// The page is given a message once its decryption (session update and
	// buffered plaintext, still in the group commit) is durable: a crash
	// after the event then finds the plaintext in the buffer and the repeat
	// says redelivered. Before, a crash ahead of the group commit decrypted
	// it again from the old session state, and the repeat was unmarked.
	// If that fails (storage failure), the page is not given the message and
	// whatsmeow neither clears its buffer nor acknowledges it: the server
	// keeps it and delivers it again once the session can store.
	if sess := c.currentSession(); sess != nil {
		if err := sess.container.Flush(context.Background()); err != nil {
			c.log.Warnf("message %s not given to the page: storing its decryption failed: %v", v.Info.ID, err)
			return false
		}
	}
	c.emit("message", map[string]any{
		"id":             v.Info.ID,
		"chat":           chat,
		"chatAlt":        chatAlt,
		"sender":         sender,
		"senderAlt":      senderAlt,
		"addressingMode": string(v.Info.AddressingMode),
		"fromMe":         v.Info.IsFromMe,
		"redelivered":    redelivered,
		"isGroup":        v.Info.IsGroup,
		"pushName":       v.Info.PushName,
		"text":           text,
		"time":           v.Info.Timestamp.UnixMilli(),
	})
	return true
}

// isRedelivery tells whether whatsmeow gave this message from its buffer
// because the server delivered it again (redelivery.go).
func (c *client) isRedelivery(v *events.Message) bool {
	cli, _ := c.current()
	if cli == nil {
		return false
	}
	w, ok := cli.Store.EventBuffer.(*redeliveryWatch)
	return ok && w.take(v.RawMessage)
}

// chatAlt is the other form of a message's chat: for a 1:1 chat the other
// party's, which whatsmeow gives as SenderAlt (their message) or
// RecipientAlt (ours, sent from another device).
func (c *client) chatAlt(info types.MessageInfo) types.JID {
	if info.IsGroup {
		return types.EmptyJID
	}
	if info.IsFromMe {
		return info.RecipientAlt.ToNonAD()
	}
	return info.SenderAlt.ToNonAD()
}

// bothForms gives a party as the page sees it: the phone-number JID first
// and the LID as the alternative, looking the missing one up in the
// session's LID map; a group or a party with one known form has a nil alt.
func (c *client) bothForms(addressed, alt types.JID) (string, any) {
	pn, lid := c.lookUpForms(addressed, alt)
	switch {
	case pn.IsEmpty() && lid.IsEmpty():
		return addressed.String(), jidOrNil(alt)
	case pn.IsEmpty():
		return lid.String(), nil
	case lid.IsEmpty():
		return pn.String(), nil
	}
	return pn.String(), lid.String()
}

// lookUpForms is partyForms completed from the session's LID map: the
// phone-number JID and the LID of one party, either empty when unknown.
func (c *client) lookUpForms(addressed, alt types.JID) (pn, lid types.JID) {
	pn, lid = partyForms(addressed, alt)
	cli, _ := c.current()
	if cli != nil && (pn.IsEmpty() != lid.IsEmpty()) {
		ctx := context.Background()
		if pn.IsEmpty() {
			if got, err := cli.Store.LIDs.GetPNForLID(ctx, lid); err == nil && !got.IsEmpty() {
				pn = types.JID{User: got.User, Server: got.Server, Device: lid.Device}
			}
		} else if got, err := cli.Store.LIDs.GetLIDForPN(ctx, pn); err == nil && !got.IsEmpty() {
			lid = types.JID{User: got.User, Server: got.Server, Device: pn.Device}
		}
	}
	return pn, lid
}

// recoverInto turns a panic in an event path into an error event, so the Go
// program survives it.
func (c *client) recoverInto(where string) {
	if r := recover(); r != nil {
		c.log.Errorf("recovered panic in %s: %v", where, r)
		c.emit("error", jsbridge.Errorf(jsbridge.CodePanic, "internal error in %s (recovered): %v", where, r))
	}
}

func jidOrNil(j types.JID) any {
	if j.IsEmpty() {
		return nil
	}
	return j.String()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// handle builds the JS object the page gets from createClient.
func (c *client) handle() js.Value {
	h := js.Global().Get("Object").New()
	c.emitter.Bind(h)
	bg := context.Background()
	async := func(name string, fn func(args []js.Value) (any, error)) {
		h.Set(name, jsbridge.Func(name, func(args []js.Value) (any, error) {
			if _, err := c.current(); err != nil && name != "destroy" {
				return nil, err
			}
			return fn(args)
		}))
	}
	async("connect", func([]js.Value) (any, error) { return nil, c.connect(bg) })
	async("requestPairingCode", func(args []js.Value) (any, error) {
		if len(args) == 0 || args[0].Type() != js.TypeString {
			return nil, jsbridge.Errorf(codeInvalidPhone, "requestPairingCode(phone): phone must be a string of digits in international format")
		}
		phone := args[0].String()
		return c.requestPairingCode(bg, phone)
	})
	async("sendText", func(args []js.Value) (any, error) {
		to, err := stringArg(args, 0, "sendText(jid, text)", "jid")
		if err != nil {
			return nil, err
		}
		text, err := stringArg(args, 1, "sendText(jid, text)", "text")
		if err != nil {
			return nil, err
		}
		return c.sendText(bg, to, text)
	})
	async("exportSession", func([]js.Value) (any, error) {
		blob, err := c.exportSession(bg)
		if err != nil {
			return nil, err
		}
		return jsbridge.BytesToJS(blob), nil
	})
	async("logout", func([]js.Value) (any, error) { return nil, c.logout(bg) })
	async("disconnect", func([]js.Value) (any, error) { return nil, c.disconnect(bg) })
	async("destroy", func([]js.Value) (any, error) { return nil, c.destroy(bg) })
	async("listSessions", func([]js.Value) (any, error) { return listSessions(bg, c.opts.dbName) })
	async("deleteSession", func(args []js.Value) (any, error) {
		id, err := stringArg(args, 0, "deleteSession(clientId)", "clientId")
		if err != nil {
			return nil, err
		}
		return nil, deleteSession(bg, c.opts.dbName, id)
	})
	sync := func(name string, fn func() any) {
		h.Set(name, jsbridge.SyncFunc(name, func([]js.Value) (any, error) {
			if _, err := c.current(); err != nil {
				return nil, err
			}
			return fn(), nil
		}))
	}
	sync("getCreds", func() any { return c.creds() })
	h.Set("getState", jsbridge.SyncFunc("getState", func([]js.Value) (any, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.state, nil
	}))
	sync("isConnected", func() any {
		cli, _ := c.current()
		return cli != nil && cli.IsConnected()
	})
	sync("isLoggedIn", func() any {
		cli, _ := c.current()
		return cli != nil && cli.IsLoggedIn()
	})
	h.Set("clientId", c.opts.clientID)
	h.Set("strategy", c.opts.strategy)
	return h
}

func stringArg(args []js.Value, i int, sig, name string) (string, error) {
	if len(args) <= i || args[i].Type() != js.TypeString {
		return "", jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: %s must be a string", sig, name)
	}
	return args[i].String(), nil
}
