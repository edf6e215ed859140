package core

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types/events"
)

// App state: the phone shares the app-state keys after pairing, and
// whatsmeow then fetches each collection (a snapshot that is always an
// external blob, and patches with external mutations: appstate/decode.go),
// only logging a failure. The client checks after the share that every
// collection got synced, syncing any that did not itself (with retries:
// syncretry.go), and maps the mutations (full syncs included,
// EmitAppStateEventsOnFullSync) to contacts.update and chats.update.

// appStateSupervisor is at most one check per client at a time, and at
// most one retry per collection after notifications (appstate_resync.go).
type appStateSupervisor struct {
	running  atomic.Bool
	mu       sync.Mutex
	retrying map[appstate.WAPatchName]bool
}

func (s *appStateSupervisor) startRetry(name appstate.WAPatchName) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retrying[name] {
		return false
	}
	if s.retrying == nil {
		s.retrying = make(map[appstate.WAPatchName]bool)
	}
	s.retrying[name] = true
	return true
}

func (s *appStateSupervisor) endRetry(name appstate.WAPatchName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.retrying, name)
}

// superviseAppState waits until whatsmeow stored the shared keys, then
// syncs every collection not synced yet (a no-op for those whatsmeow
// synced: FetchAppState with onlyIfNotSynced, under whatsmeow's own lock);
// the collections that failed are retried on a goroutine of their own.
//
// It is called from the handler of the key share's message and, natively,
// returns once the first pass is done (appstate_wait*.go).
func (c *Client) superviseAppState(cli *whatsmeow.Client, share *waE2E.AppStateSyncKeyShare) {
	if !c.appState.running.CompareAndSwap(false, true) {
		return
	}
	firstPass := make(chan struct{})
	go func() {
		defer c.appState.running.Store(false)
		defer c.recoverInto("app state sync")
		ctx := context.Background()
		for _, k := range share.GetKeys() {
			// whatsmeow stores the keys on a goroutine of its own.
			for i := 0; i < 100; i++ {
				if key, err := cli.Store.AppStateKeys.GetAppStateSyncKey(ctx, k.GetKeyID().GetKeyID()); err == nil && key != nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		var failed []appstate.WAPatchName
		c.syncWork.Lock()
		for _, name := range appstate.AllPatchNames {
			if err := cli.FetchAppState(ctx, name, false, true); err != nil {
				failed = append(failed, name)
			}
		}
		c.syncWork.Unlock()
		close(firstPass)
		for _, name := range failed {
			lost := fmt.Sprintf("app state %s (%s)", name, appStateContents(name))
			_ = c.retrySync(cli, lost, func(ctx context.Context) error {
				c.syncWork.Lock()
				defer c.syncWork.Unlock()
				return cli.FetchAppState(ctx, name, false, true)
			})
		}
	}()
	if appStateFirstPassWait > 0 {
		select {
		case <-firstPass:
		case <-time.After(appStateFirstPassWait):
		}
	}
}

// appStateContents says what a collection holds, for sync_failed.
func appStateContents(name appstate.WAPatchName) string {
	switch name {
	case appstate.WAPatchCriticalBlock:
		return "your push name and settings"
	case appstate.WAPatchCriticalUnblockLow:
		return "contact names"
	case appstate.WAPatchRegularHigh:
		return "muted chats and starred messages"
	case appstate.WAPatchRegularLow:
		return "pinned and archived chats"
	}
	return "app-state key expiry and other protocol data"
}

// appStateEvent maps an app-state event of whatsmeow to the page's, nil
// for the others.
func (c *Client) appStateEvent(evt any) Event {
	switch v := evt.(type) {
	case *events.Contact:
		u := ContactUpdate{JID: v.JID.String()}
		if a := v.Action; a != nil {
			if a.FullName != nil {
				u.FullName = strPtr(a.GetFullName())
			}
			if a.FirstName != nil {
				u.FirstName = strPtr(a.GetFirstName())
			}
		}
		return ContactsUpdate{Contacts: []ContactUpdate{u}}
	case *events.PushName:
		return ContactsUpdate{Contacts: []ContactUpdate{{JID: v.JID.String(), PushName: strPtr(v.NewPushName)}}}
	case *events.Mute:
		muted := v.Action.GetMuted()
		u := ChatUpdate{JID: v.JID.String(), Muted: &muted}
		if muted {
			end := v.Action.GetMuteEndTimestamp()
			if end > 0 {
				end *= 1000 // seconds on the wire
			}
			u.MuteEnd = &end
		}
		return ChatsUpdate{Chats: []ChatUpdate{u}}
	case *events.Pin:
		pinned := v.Action.GetPinned()
		return ChatsUpdate{Chats: []ChatUpdate{{JID: v.JID.String(), Pinned: &pinned}}}
	case *events.Archive:
		archived := v.Action.GetArchived()
		return ChatsUpdate{Chats: []ChatUpdate{{JID: v.JID.String(), Archived: &archived}}}
	case *events.MarkChatAsRead:
		read := v.Action.GetRead()
		return ChatsUpdate{Chats: []ChatUpdate{{JID: v.JID.String(), Read: &read}}}
	}
	return nil
}
