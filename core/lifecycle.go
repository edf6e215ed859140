package core

import (
	"context"
	"errors"
	"fmt"
)

// Logout tells the server to remove this device, then wipes the session.
func (c *Client) Logout(ctx context.Context) error {
	if err := c.Alive(); err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	cli, err := c.current()
	if err != nil {
		return err
	}
	if cli == nil || cli.Store.ID == nil {
		return Errorf(CodeNotLoggedIn, "logout: not logged in")
	}
	if !cli.IsConnected() {
		return Errorf(CodeNotConnected, "logout: not connected; the server must confirm a logout, so connect() first")
	}
	if err := cli.Logout(ctx); err != nil {
		return Errorf(CodeLogout, "logout: %w", err)
	}
	return c.wipeLocked(ctx, LoggedOutLogout, true)
}

// wipeLocked deletes the session (local data, and the remote copy when the
// logout is confirmed), then emits creds.update and logged_out. The next
// connect starts over with a fresh device and a QR.
func (c *Client) wipeLocked(ctx context.Context, reason string, confirmed bool) error {
	c.mu.Lock()
	sess, cli, rs, id := c.sess, c.cli, c.sync, c.handlerID
	c.sess, c.cli, c.sync = nil, nil, nil
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
	if rs != nil {
		_ = rs.close(ctx, false)
	}
	if err := sess.wipe(ctx); err != nil {
		errs = append(errs, err)
	}
	if confirmed && c.remote != nil {
		if err := c.remote.delete(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	c.setState(StateLoggedOut)
	c.updateCreds(&Creds{})
	c.emit(LoggedOut{Reason: reason})
	if err := errors.Join(errs...); err != nil {
		c.emit(ErrorEvent{WithCode(CodeWipeFailed, fmt.Errorf("wiping session %q after %s: %w", c.opts.ClientID, reason, err))})
		return err
	}
	return nil
}

// Disconnect closes the socket and stops reconnecting; the session stays.
func (c *Client) Disconnect(ctx context.Context) error {
	if err := c.Alive(); err != nil {
		return err
	}
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
	rs, sess := c.sync, c.sess
	c.mu.Unlock()
	if rs != nil {
		if _, err := rs.save(ctx); err != nil {
			c.emit(ErrorEvent{WithCode(CodeRemoteSave, err)})
		}
	}
	if sess != nil {
		if err := sess.container.Flush(ctx); err != nil {
			return fmt.Errorf("disconnect: flushing the store: %w", err)
		}
	}
	if wasConnected {
		c.reportDisconnected(DisconnectClient, "")
	}
	return nil
}

// Destroy disconnects, flushes and closes the storage (keeping the
// session), releases its lock and makes every later call fail.
func (c *Client) Destroy(ctx context.Context) error {
	c.mu.Lock()
	c.wantConnected = false
	c.mu.Unlock()
	c.stopReconnect() // before op, as in Disconnect
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	if c.destroyed {
		c.mu.Unlock()
		return nil
	}
	c.destroyed = true
	sess, cli, rs, id := c.sess, c.cli, c.sync, c.handlerID
	c.sess, c.cli, c.sync = nil, nil, nil
	c.state = StateDestroyed
	c.mu.Unlock()
	c.stopQR()
	c.stopReconnect()
	var errs []error
	if cli != nil {
		// The socket first: a message handled after the handler went and
		// before the socket closed would be acknowledged unseen and lost.
		cli.Disconnect()
		cli.RemoveEventHandler(id)
	}
	if rs != nil {
		if err := rs.close(ctx, true); err != nil {
			errs = append(errs, err)
		}
	}
	if sess != nil {
		if err := sess.close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("destroy %q: %w", c.opts.ClientID, err)
	}
	return nil
}

// storeFailed handles a commit that failed under the write barrier (quota,
// a closed database): the frame that needed it was not sent, so the server
// still holds what was not stored. The connection is closed rather than left
// half-working; the data stays as it was, and a later connect (after the
// page freed space or reloaded) gets the undelivered messages again.
func (c *Client) storeFailed(err error) {
	defer c.recoverInto("store failure")
	c.log.Errorf("store commit failed, disconnecting: %v", err)
	c.emit(ErrorEvent{WithCode(CodeStoreFailed, fmt.Errorf("session %q could not be stored, so nothing of it was acknowledged and the connection is closed: %w", c.opts.ClientID, err))})
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
	c.reportDisconnected(DisconnectStoreFailed, errString(err))
}

// refused ends a connection the service refused at login: whatsmeow closes
// the socket as expected and emits no Disconnected, so the state and the
// page are told here. No reconnect: the same login would be refused again.
func (c *Client) refused(reason string) {
	c.mu.Lock()
	c.wantConnected = false
	c.mu.Unlock()
	c.stopQR()
	c.reportDisconnected(reason, "")
}

// reportDisconnected sets the state and tells the page why the socket is
// gone (message: more detail, left out when empty).
func (c *Client) reportDisconnected(reason, message string) {
	c.setState(StateDisconnected)
	c.emit(Disconnected{Reason: reason, Message: message})
}
