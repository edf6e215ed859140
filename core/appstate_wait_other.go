//go:build !js

package core

import "time"

// appStateFirstPassWait is how long the key share's message holds
// whatsmeow's handler queue while the first app-state pass runs. Natively
// goroutines run in parallel, and whatsmeow writes the device's fields from
// that pass and from the next messages (the phone's LID migration sync)
// without a lock (appstate.go dispatchAppState, message.go
// storeLIDSyncMessage): a data race, which holding the queue avoids. The
// wait is bounded: a failing media host makes whatsmeow retry for long
// (1+2+3+4 s per host), and the pass dispatches its events through
// whatsmeow's handler lock, which the waiting handler holds for reading.
const appStateFirstPassWait = 5 * time.Second
