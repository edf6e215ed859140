package core

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"
)

// Connect opens the websocket. An unpaired device then emits qr events; a
// paired one emits authenticated and ready. Returns once the socket is up.
func (c *Client) Connect(ctx context.Context) error {
	if err := c.Alive(); err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	return c.connectLocked(ctx)
}

func (c *Client) connectLocked(ctx context.Context) error {
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
	applyDevice(c.opts.DeviceName)
	applyWAVersion(ctx, CurrentPage().SocketURL, c.log)
	if cli.Store.ID == nil {
		c.mu.Lock()
		c.qrSeen, c.qrSeenOnce = make(chan struct{}), new(sync.Once)
		c.mu.Unlock()
	} else if !c.loggedInOnce(ctx, cli) {
		c.mu.Lock()
		c.neverLoggedIn = true
		c.mu.Unlock()
	}
	c.setState(StateConnecting)
	if err := cli.ConnectContext(withSocketOwner(ctx, c.currentSession)); err != nil {
		c.setState(StateDisconnected)
		return Errorf(CodeConnect, "connect: %w", err)
	}
	return nil
}

// loggedInOnce tells whether the stored device ever completed a login: the
// first one uploads its prekeys, which a device whose pairing the service
// never confirmed cannot have done. (A crash in the second between that
// login and the upload reads as unconfirmed too; it is then treated as a
// failed pairing, which is what the page has to do about it anyway.)
func (c *Client) loggedInOnce(ctx context.Context, cli *whatsmeow.Client) bool {
	n, err := cli.Store.PreKeys.UploadedPreKeyCount(ctx)
	return err != nil || n > 0
}

// qrLifetime is how long code i (from 0) of a rotation is shown: as the QR
// channel of whatsmeow does, 60 s for the first and 20 s for each next,
// unless the qrTimeoutMs option says otherwise.
func (c *Client) qrLifetime(i int) time.Duration {
	switch {
	case c.opts.QRTimeout > 0:
		return c.opts.QRTimeout
	case i == 0:
		return 60 * time.Second
	}
	return 20 * time.Second
}

// startQR rotates the codes of a pair-device request, emitting each as a qr
// event; when they run out (or qrMaxRetries is reached) the client
// disconnects and reports qr_timeout, as the server would close the socket
// anyway. It is our own loop rather than whatsmeow's GetQRChannel because
// that one cannot be stopped from outside: after a disconnect() its stale
// timer would disconnect the next connection.
func (c *Client) startQR(cli *whatsmeow.Client, codes []string) {
	c.stopQR()
	stop := make(chan struct{})
	c.mu.Lock()
	c.qrStop = stop
	seen, once := c.qrSeen, c.qrSeenOnce
	c.mu.Unlock()
	go func() {
		defer c.recoverInto("qr")
		if n := c.opts.QRMaxRetries; n > 0 && len(codes) > n+1 {
			codes = codes[:n+1]
		}
		for i, code := range codes {
			timeout := c.qrLifetime(i)
			select {
			case <-stop:
				return
			default:
			}
			c.setState(StateQR)
			if once != nil {
				once.Do(func() { close(seen) })
			}
			c.emit(QR{Code: currentPlatform().qrCode(code), TimeoutMs: timeout.Milliseconds()})
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
		c.emit(AuthFailure{Reason: AuthQRTimeout, Message: "no QR code was scanned before the codes ran out"})
		c.reportDisconnected(DisconnectQRTimeout, "")
	}()
}

// stopQR ends the current QR rotation, if any.
func (c *Client) stopQR() { c.closeStop(&c.qrStop) }

// closeStop closes and forgets the stop channel *ch (of a QR rotation or a
// reconnect loop), if there is one.
func (c *Client) closeStop(ch *chan struct{}) {
	c.mu.Lock()
	stop := *ch
	*ch = nil
	c.mu.Unlock()
	if stop != nil {
		close(stop)
	}
}

// RequestPairingCode asks the server for a code to type on the phone; it
// connects first when needed and returns only once the server accepted.
func (c *Client) RequestPairingCode(ctx context.Context, phone string) (string, error) {
	if err := c.Alive(); err != nil {
		return "", err
	}
	digits := nonDigits.ReplaceAllString(phone, "")
	if len(digits) < 7 || len(digits) > 15 || strings.HasPrefix(digits, "0") {
		return "", Errorf(CodeInvalidPhone, "requestPairingCode: %q is not a phone number in international format (7 to 15 digits with the country code, no leading 0)", phone)
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
		return "", Errorf(CodeAlreadyPaired, "requestPairingCode: this session is already paired as %s", cli.Store.ID)
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
		return "", Errorf(CodePairing, "requestPairingCode: the server did not start pairing within 30 s")
	}
	p := currentPlatform()
	code, err := cli.PairPhone(ctx, digits, true, p.clientType, p.displayName())
	if err != nil {
		if errors.Is(err, whatsmeow.ErrPhoneNumberTooShort) || errors.Is(err, whatsmeow.ErrPhoneNumberIsNotInternational) {
			return "", Errorf(CodeInvalidPhone, "requestPairingCode: %w", err)
		}
		var iqErr *whatsmeow.IQError
		if errors.As(err, &iqErr) && (iqErr.Code == 400 || iqErr.Code == 404) {
			return "", Errorf(CodeInvalidPhone, "requestPairingCode: the server rejected %s: %w", digits, err)
		}
		return "", Errorf(CodePairing, "requestPairingCode: %w", err)
	}
	c.emit(PairingCode{Code: code, Phone: digits})
	return code, nil
}

// SendText sends a text to a chat (a JID or a phone number, jids.go) and
// returns the message id once the server acknowledged it.
func (c *Client) SendText(ctx context.Context, to, text string) (string, error) {
	cli, err := c.readyToSend("sendText") // sendmessage.go
	if err != nil {
		return "", err
	}
	jid, err := parseJID(to)
	if err != nil {
		return "", err
	}
	if text == "" {
		return "", Errorf(CodeInvalidOption, "sendText: text must not be empty")
	}
	if err := checkOutgoingText(text); err != nil {
		return "", err
	}
	resp, err := sendReaching(ctx, cli, jid, &waE2E.Message{Conversation: proto.String(text)})
	if err != nil {
		if why := sendFailureReason(err); why != "" {
			return "", Errorf(CodeSend, "sendText to %s: %s: %w", jid, why, err)
		}
		return "", Errorf(CodeSend, "sendText to %s: %w", jid, err)
	}
	c.tokens.issueAfterSend(cli, jid, c.log.Warnf)
	return resp.ID, nil
}

// parseJID reads a chat argument (jids.go), with the page's error code.
func parseJID(s string) (types.JID, error) {
	jid, err := normalizeJID(s)
	if err != nil {
		return types.JID{}, WithCode(CodeInvalidJID, err)
	}
	return jid, nil
}
