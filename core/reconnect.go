package core

import (
	"context"
	"errors"
	"time"

	"go.mau.fi/whatsmeow"
)

// Reconnection after a lost connection is ours rather than whatsmeow's
// (its EnableAutoReconnect is off): whatsmeow's loop reports nothing to the
// page, cannot be stopped from outside, and retries with a delay that grows
// without bound. Ours emits `reconnecting` with the attempt and its delay,
// and stops on disconnect(), logout() and destroy().

const maxReconnectDelay = 30 * time.Second

// reconnectDelay is the wait before attempt n (from 1): at once, then 1 s,
// 2 s, 4 s ... up to 30 s.
func reconnectDelay(attempt int) time.Duration {
	if attempt <= 1 {
		return 0
	}
	if attempt > 7 {
		return maxReconnectDelay
	}
	return min(time.Second<<(attempt-2), maxReconnectDelay)
}

// startReconnect begins reconnecting cli, unless a loop already runs. The
// attempt count carries on across loops until a login succeeds, so a server
// that drops every new socket meets a growing delay.
func (c *Client) startReconnect(cli *whatsmeow.Client) {
	c.mu.Lock()
	if c.reconnStop != nil || c.destroyed || !c.wantConnected || c.cli != cli || cli == nil || cli.Store.ID == nil {
		c.mu.Unlock()
		return
	}
	stop := make(chan struct{})
	c.reconnStop = stop
	c.mu.Unlock()
	go func() {
		defer c.recoverInto("reconnect")
		defer func() {
			c.mu.Lock()
			if c.reconnStop == stop {
				c.reconnStop = nil
			}
			c.mu.Unlock()
		}()
		for {
			c.mu.Lock()
			c.reconnAttempts++
			attempt := c.reconnAttempts
			c.mu.Unlock()
			delay := reconnectDelay(attempt)
			c.setState(StateReconnecting)
			c.emit(Reconnecting{Attempt: attempt, DelayMs: delay.Milliseconds()})
			select {
			case <-stop:
				return
			case <-time.After(delay):
			}
			done, err := c.reconnectOnce(cli, stop)
			if done {
				c.mu.Lock()
				if c.reconnStop == stop {
					c.reconnStop = nil
				}
				c.mu.Unlock()
				select {
				case <-stop:
					return // stopped: the page disconnected or connects itself
				default:
				}
				// A socket that dropped again before the loop let go was
				// reported while the loop still ran, and so ignored: go on.
				if !cli.IsConnected() {
					c.startReconnect(cli)
				}
				return
			}
			c.log.Warnf("reconnect attempt %d failed: %v", attempt, err)
		}
	}()
}

// reconnectOnce dials once under the op lock (so it never races connect,
// disconnect or destroy). done means the loop should end: the socket is up
// (login then emits ready, or a new disconnect starts a new loop) or the
// loop was stopped meanwhile.
func (c *Client) reconnectOnce(cli *whatsmeow.Client, stop chan struct{}) (done bool, err error) {
	c.op.Lock()
	defer c.op.Unlock()
	select {
	case <-stop:
		return true, nil
	default:
	}
	if current, _ := c.current(); current != cli {
		return true, nil
	}
	if cli.IsConnected() {
		return true, nil
	}
	// The dial may hang (a black-holed host, a stalled proxy) for as long as
	// the browser lets it: stopping the loop cancels it, so disconnect() and
	// destroy() never wait for it. Once the socket is up the context stays:
	// whatsmeow keeps it for the connection.
	dialCtx, cancelDial := context.WithCancel(context.Background())
	dialed := make(chan struct{})
	go func() {
		select {
		case <-stop:
			cancelDial()
		case <-dialed:
		}
	}()
	err = cli.ConnectContext(withSocketOwner(dialCtx, c.currentSession))
	close(dialed)
	if err == nil || errors.Is(err, whatsmeow.ErrAlreadyConnected) {
		return true, nil
	}
	return false, err
}

// stopReconnect ends the current reconnect loop, if any.
func (c *Client) stopReconnect() { c.closeStop(&c.reconnStop) }

// After pair-success whatsmeow expects the server to close the socket with
// 515 and logs in again by itself; it emits nothing if the socket drops
// before that instead (a lost connection, or the service never received the
// pairing's answer), and the client would stay offline with no event.
// watchPairedLogin notices such a drop and hands it to the reconnect loop,
// whose login then either succeeds or is refused as an unconfirmed pairing.
func (c *Client) watchPairedLogin(cli *whatsmeow.Client, loggedIn <-chan struct{}) {
	go func() {
		defer c.recoverInto("pairing login")
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		down := 0
		for {
			select {
			case <-loggedIn:
				return
			case <-tick.C:
			}
			if current, _ := c.current(); current != cli {
				return
			}
			c.mu.Lock()
			handedOver := !c.wantConnected || c.reconnStop != nil
			c.mu.Unlock()
			if handedOver {
				return // the page disconnected, or a reconnect loop runs already
			}
			// The 515 restart leaves the socket down for a moment: only two
			// checks in a row count.
			if cli.IsConnected() {
				down = 0
				continue
			}
			if down++; down < 2 {
				continue
			}
			c.reportDisconnected(DisconnectConnectionLost, "the connection dropped after pairing, before the first login")
			c.startReconnect(cli)
			return
		}
	}()
}
