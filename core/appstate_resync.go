package core

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	"go.mau.fi/whatsmeow/appstate"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// Later app-state syncs: when another device changes app state the service
// sends a server_sync notification and whatsmeow fetches the collection's
// new patches (notification.go handleAppStateNotification). A failure
// there is only a log line: the pinned whatsmeow has no event for it
// (types/events has AppStateSyncComplete, no error), no hook on
// notifications, and does not try again. That log line is the hook: the
// client's logger recognises it (the pinned format string, with the error
// as its argument) and the client syncs the collection again with retries
// (syncretry.go), so a lost one is an error event sync_failed naming it.

// appStateNotificationFailure is whatsmeow's log format for a failed sync
// after a server_sync notification (notification.go, at the pin).
const appStateNotificationFailure = "Failed to sync app state after notification: %v"

// syncFailureLog is whatsmeow's client logger, telling onFail of failed
// app-state syncs after notifications.
type syncFailureLog struct {
	waLog.Logger
	onFail func(error)
}

func (l syncFailureLog) Errorf(msg string, args ...any) {
	l.Logger.Errorf(msg, args...)
	if msg == appStateNotificationFailure && len(args) == 1 {
		if err, ok := args[0].(error); ok {
			l.onFail(err)
		}
	}
}

func (l syncFailureLog) Sub(module string) waLog.Logger {
	return syncFailureLog{Logger: l.Logger.Sub(module), onFail: l.onFail}
}

// collectionInError finds the collection whatsmeow's error names ("failed
// to fetch app state regular_low patches: ...", appstate.go); the empty
// name if none.
var collectionInError = regexp.MustCompile(`app state (\S+) `)

func failedCollections(err error) []appstate.WAPatchName {
	if m := collectionInError.FindStringSubmatch(err.Error()); m != nil && slices.Contains(appstate.AllPatchNames[:], appstate.WAPatchName(m[1])) {
		return []appstate.WAPatchName{appstate.WAPatchName(m[1])}
	}
	return appstate.AllPatchNames[:] // unnamed: catch up on every collection
}

// resyncAfterNotification syncs again, with retries, the collections a
// failed notification sync names; one retry per collection at a time.
func (c *Client) resyncAfterNotification(err error) {
	cli, _ := c.current()
	if cli == nil {
		return
	}
	for _, name := range failedCollections(err) {
		if !c.appState.startRetry(name) {
			continue // a retry of it is under way, and will fetch the new patches too
		}
		go func() {
			defer c.appState.endRetry(name)
			defer c.recoverInto("app state resync")
			lost := fmt.Sprintf("a change to app state %s (%s) made on another device", name, appStateContents(name))
			_ = c.retrySync(cli, lost, func(ctx context.Context) error {
				c.syncWork.Lock()
				defer c.syncWork.Unlock()
				return cli.FetchAppState(ctx, name, false, false)
			})
		}()
	}
}
