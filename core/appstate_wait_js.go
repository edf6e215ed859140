//go:build js

package core

// appStateFirstPassWait: in a page one thread runs every goroutine, so
// whatsmeow's unlocked device writes (appstate_wait_other.go) are no data
// race there, and messages (with the privacy tokens a reply needs) are not
// held back behind the app-state sync.
const appStateFirstPassWait = 0
