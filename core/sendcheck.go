package core

import (
	"context"
	"fmt"
	"strings"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
)

// A send that resolves must have reached the recipient. whatsmeow (pinned
// version, send.go encryptMessageForDevices) encrypts for every device of
// the chat, and a device it has no Signal session with needs the device's
// prekey bundle from the server first. When that fetch fails (the socket
// dropped under the query and did not come back within whatsmeow's 5 s,
// or the server refused it) whatsmeow only logs "Failed to encrypt ...",
// leaves the device out of the stanza and sends the message to the others:
// the server acknowledges it and SendMessage succeeds though the peer got
// nothing. Afterwards every recipient device has a session exactly when the
// message was encrypted for it, so that is checked; a device without one
// gets the message again under the same id (whatsmeow then fetches the
// bundle anew; devices that had it already see the id twice, which clients
// treat as one message), and if that does not help either the send fails,
// naming the devices.

// sendReaching sends msg to chat like cli.SendMessage, under the device's
// Signal lock, and makes sure every device of the recipient was included.
func sendReaching(ctx context.Context, cli *whatsmeow.Client, to types.JID, msg *waE2E.Message) (whatsmeow.SendResponse, error) {
	ctx, release := signalGuardOf(cli.Store).hold(ctx)
	defer release()
	resp, err := cli.SendMessage(ctx, to, msg)
	if err != nil || !sendNeedsSessions(to) {
		return resp, err
	}
	missing, err := devicesWithoutSession(ctx, cli, to)
	if err != nil || len(missing) == 0 {
		return resp, err
	}
	cli.Log.Warnf("Message %s reached no Signal session of %v (key fetch failed): sending it again", resp.ID, missing)
	if _, err = cli.SendMessage(ctx, to, msg, whatsmeow.SendRequestExtra{ID: resp.ID}); err != nil {
		return resp, fmt.Errorf("message %s was not encrypted for %s and sending it again failed: %w", resp.ID, joinJIDs(missing), err)
	}
	if missing, err = devicesWithoutSession(ctx, cli, to); err == nil && len(missing) > 0 {
		return resp, fmt.Errorf("message %s could not be encrypted for %s: their keys could not be fetched", resp.ID, joinJIDs(missing))
	}
	return resp, err
}

// sendNeedsSessions: 1:1 chats with a user (groups use sender keys and
// come with the groups work).
func sendNeedsSessions(to types.JID) bool {
	return to.Server == types.DefaultUserServer || to.Server == types.HiddenUserServer
}

// devicesWithoutSession lists the recipient's devices (as whatsmeow's send
// just cached them) that have no Signal session, our own sending device
// aside. A phone-number device is looked up under its LID when the mapping
// is known, as whatsmeow encrypts it.
func devicesWithoutSession(ctx context.Context, cli *whatsmeow.Client, to types.JID) ([]types.JID, error) {
	devices, err := cli.GetUserDevicesContext(ctx, []types.JID{to.ToNonAD()})
	if err != nil {
		return nil, fmt.Errorf("listing the devices of %s: %w", to, err)
	}
	own, ownLID := cli.Store.GetJID(), cli.Store.GetLID()
	var missing []types.JID
	for _, dev := range devices {
		if dev == own || dev == ownLID {
			continue
		}
		addr := dev
		if dev.Server == types.DefaultUserServer {
			if lid, err := cli.Store.LIDs.GetLIDForPN(ctx, dev); err == nil && !lid.IsEmpty() {
				addr = lid
			}
		}
		ok, err := cli.Store.ContainsSession(ctx, addr.SignalAddress())
		if err != nil {
			return nil, fmt.Errorf("looking up the session with %s: %w", addr, err)
		}
		if !ok {
			missing = append(missing, dev)
		}
	}
	return missing, nil
}

func joinJIDs(jids []types.JID) string {
	s := make([]string, len(jids))
	for i, j := range jids {
		s[i] = j.String()
	}
	return strings.Join(s, ", ")
}
