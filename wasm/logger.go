//go:build js

package main

import (
	"syscall/js"

	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/core"
)

// consoleMethods writes each level through its own console method, so that
// devtools, Playwright's console events and Electron's console-message tell
// errors and warnings apart (waLog.Stdout writes everything through
// console.log).
var consoleMethods = [...]string{"debug", "info", "warn", "error"}

func toConsoleAt(level int, line string) { toConsole(consoleMethods[level], line) }

// pageSignalLog is libsignal's page-wide log on the console: a decrypt that
// fails is an error there, not a log line.
var pageSignalLog = core.InstallSignalLog(toConsoleAt)

func newLogger(clientID, level string) waLog.Logger {
	pageSignalLog.Allow(level)
	return core.NewLevelLogger("wasmeow/"+clientID, level, toConsoleAt)
}

// toConsole writes a line with console[method]. Logging runs on whatsmeow's
// goroutines, where nothing recovers: a console that throws (a test harness
// failing on console errors, a wrapper) must not end the Go program.
func toConsole(method, line string) {
	defer func() { _ = recover() }()
	console := js.Global().Get("console")
	if console.Type() == js.TypeObject {
		console.Call(method, line)
	}
}
