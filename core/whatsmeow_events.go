package core

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// handleEvent maps whatsmeow's events to the page's. whatsmeow calls it
// synchronously, so slow work (wiping) goes to its own goroutine, and a
// message waits for its commit in the page queue, not here (pagequeue.go:
// a message the page could not be given is neither cleared from whatsmeow's
// buffer nor acknowledged, so it comes again).
func (c *Client) handleEvent(evt any) (handled bool) {
	handled = true
	defer c.recoverInto("event")
	switch v := evt.(type) {
	case *events.QR:
		c.mu.Lock()
		cli := c.cli
		c.mu.Unlock()
		c.startQR(cli, v.Codes)
	case *events.QRScannedWithoutMultidevice:
		c.emit(AuthFailure{Reason: AuthScannedWithoutMD, Message: "the QR code was scanned by a phone without multi-device"})
	case *events.PairSuccess:
		c.paired(v)
	case *events.PairError:
		c.stopQR()
		c.emit(AuthFailure{Reason: AuthPairError, Message: errString(v.Error)})
	case *events.Connected:
		c.connected()
	case *events.Disconnected:
		c.stopQR()
		c.reportDisconnected(DisconnectConnectionLost, "")
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
				c.reportDisconnected(DisconnectKeepaliveTimeout, fmt.Sprintf("no answer to keepalives since %s", v.LastSuccess.Format(time.RFC3339)))
				c.startReconnect(cli)
			}
		}
	case *events.StreamReplaced:
		c.reportDisconnected(DisconnectReplaced, "another client connected with this session")
	case *events.LoggedOut:
		c.loggedOut(v)
	case *events.ConnectFailure:
		c.emit(AuthFailure{Reason: AuthConnectFailure, Message: fmt.Sprintf("%s: %s", v.Reason, v.Message)})
		c.refused(AuthConnectFailure)
	case *events.TemporaryBan:
		c.emit(AuthFailure{Reason: AuthTemporaryBan, Message: v.String()})
		c.refused(AuthTemporaryBan)
	case *events.ClientOutdated:
		refused := store.GetWAVersion().String()
		forgetRelayVersions()
		c.emit(AuthFailure{Reason: AuthClientOutdated, Version: refused, Message: fmt.Sprintf("the server refused WhatsApp Web version %s as outdated (405): pass a current version as loadWasmeow({waVersion: '2.3000.x'}) or connect through a relay that serves GET /version", refused)})
		c.refused(AuthClientOutdated)
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
	// Receipts, presence and groups (receipts.go, presence.go, groups.go).
	case *events.Receipt:
		c.emitReceipt(v)
	case *events.Presence:
		c.emitPresence(v)
	case *events.ChatPresence:
		c.emitChatPresence(v)
	case *events.GroupInfo:
		c.emitGroupUpdate(v)
	case *events.JoinedGroup:
		c.emitJoinedGroup(v)
	case *events.AppStateSyncComplete:
		// A full sync sets the push name without a PushNameSetting event
		// (whatsmeow emits none on full syncs): creds.update tells it.
		if v.Name == appstate.WAPatchCriticalBlock {
			c.updateCreds(nil)
		}
	default:
		if e := c.appStateEvent(evt); e != nil {
			c.emit(e)
		}
	}
	return true
}

// paired: the phone accepted the pairing; whatsmeow logs in again after
// the service's 515 restart.
func (c *Client) paired(v *events.PairSuccess) {
	c.stopQR()
	c.mu.Lock()
	c.authenticated = true
	c.neverLoggedIn = true // until the login after the 515 restart
	loggedIn := make(chan struct{})
	c.pairLogin = loggedIn
	cli := c.cli
	c.mu.Unlock()
	c.watchPairedLogin(cli, loggedIn)
	c.emit(Authenticated{Me: strPtr(v.ID.String()), LID: jidOrNil(v.LID), Platform: v.Platform, BusinessName: v.BusinessName, Method: "pairing"})
	c.updateCreds(nil)
}

// connected: logged in.
func (c *Client) connected() {
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
	sess := c.sess
	c.mu.Unlock()
	if first {
		cr := c.Creds()
		c.emit(Authenticated{Me: cr.Me, LID: cr.LID, Platform: cr.Platform, BusinessName: cr.BusinessName, Method: "stored"})
	}
	c.setState(StateReady)
	c.updateCreds(nil)
	c.emit(Ready{Me: c.Creds().Me})
	if sess != nil {
		sess.prefetchSignal() // not before: it would compete with the login
	}
}

// loggedOut: the service removed the device (or refused its login); the
// session is wiped on a goroutine of its own.
func (c *Client) loggedOut(v *events.LoggedOut) {
	c.stopQR()
	c.mu.Lock()
	unconfirmed := v.OnConnect && v.Reason.IsLoggedOut() && c.neverLoggedIn
	c.mu.Unlock()
	reason := LoggedOutServer
	switch {
	case unconfirmed:
		// The device was stored at pairing, but the service never confirmed
		// it (the page was closed or the answer lost right after the scan):
		// not a logout by the user. Start over with a new QR code.
		reason = LoggedOutUnconfirmed
		c.emit(AuthFailure{Reason: AuthPairingUnconfirmed, Message: "the last pairing was interrupted before WhatsApp confirmed it, so this device was never linked; a new QR code follows"})
	case v.OnConnect:
		reason = "server_logout:" + v.Reason.String()
		c.emit(AuthFailure{Reason: AuthLoggedOut, Message: v.Reason.String()})
	}
	go func() {
		defer c.recoverInto("logged_out")
		c.op.Lock()
		defer c.op.Unlock()
		ctx := context.Background()
		if err := c.wipeLocked(ctx, reason, true); err == nil && unconfirmed {
			if err := c.connectLocked(ctx); err != nil {
				c.emit(ErrorEvent{WithCode(CodeConnect, fmt.Errorf("starting over after an unconfirmed pairing: %w", err))})
			}
		}
	}()
}

func (c *Client) emitMessage(v *events.Message) bool {
	c.display.Lock()
	defer c.display.Unlock()
	m := v.Message
	redelivered := c.isRedelivery(v) // before any filter, so no stale mark stays behind
	// Protocol messages (app-state key shares, history-sync notices, ...) are
	// the phone talking to its companions, not chat messages.
	// A group's sender key alone is no chat message (messages.go).
	if onlyKeys(m) {
		return true
	}
	// An edit and a revoke are protocol messages too, but of the chat.
	if pm := m.GetProtocolMessage(); pm != nil && pm.GetType() != waE2E.ProtocolMessage_MESSAGE_EDIT && pm.GetType() != waE2E.ProtocolMessage_REVOKE {
		c.onProtocolMessage(v)
		return true
	}
	// The page is given a message once its decryption (session update and
	// buffered plaintext, still in the group commit) is durable: a crash
	// after the event then finds the plaintext in the buffer and the repeat
	// says redelivered. Before, a crash ahead of the group commit decrypted
	// it again from the old session state, and the repeat was unmarked.
	// The wait happens in the session's page queue (pagequeue.go), not here
	// on whatsmeow's node-handling goroutine. If the commit fails (storage
	// failure), the page is not given the message, the queue reports the
	// failure (the connection is closed) and whatsmeow's ack fails at the
	// write barrier on the same error: the server keeps the message and
	// delivers it again once the session can store.
	if sess := c.currentSession(); sess != nil {
		sess.pages.durableEvent(c.pageMessage(v, redelivered))
		return true
	}
	c.emit(c.pageMessage(v, redelivered))
	return true
}

// pageMessage is a decrypted message as the page gets it (message events,
// history_sync's messages).
func (c *Client) pageMessage(v *events.Message, redelivered bool) Message {
	m := v.Message
	text := m.GetConversation()
	if text == "" {
		text = m.GetExtendedTextMessage().GetText()
	}
	chat, chatAlt := c.bothForms(v.Info.Chat, c.chatAlt(v.Info))
	sender, senderAlt := c.bothForms(v.Info.Sender, v.Info.SenderAlt)
	return Message{
		ID:             v.Info.ID,
		Chat:           chat,
		ChatAlt:        chatAlt,
		Sender:         sender,
		SenderAlt:      senderAlt,
		AddressingMode: string(v.Info.AddressingMode),
		FromMe:         v.Info.IsFromMe,
		Redelivered:    redelivered,
		IsGroup:        v.Info.IsGroup,
		PushName:       v.Info.PushName,
		Text:           text,
		Time:           v.Info.Timestamp.UnixMilli(),
		MessageContent: c.messageContent(v, chat, sender),
		Media:          mediaOf(m),
	}
}

// isRedelivery tells whether whatsmeow gave this message from its buffer
// because the server delivered it again (redelivery.go).
func (c *Client) isRedelivery(v *events.Message) bool {
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
func (c *Client) chatAlt(info types.MessageInfo) types.JID {
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
func (c *Client) bothForms(addressed, alt types.JID) (string, *string) {
	pn, lid := c.lookUpForms(addressed, alt)
	switch {
	case pn.IsEmpty() && lid.IsEmpty():
		return addressed.String(), jidOrNil(alt)
	case pn.IsEmpty():
		return lid.String(), nil
	case lid.IsEmpty():
		return pn.String(), nil
	}
	return pn.String(), strPtr(lid.String())
}

// lookUpForms is partyForms completed from the session's LID map: the
// phone-number JID and the LID of one party, either empty when unknown.
func (c *Client) lookUpForms(addressed, alt types.JID) (pn, lid types.JID) {
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
