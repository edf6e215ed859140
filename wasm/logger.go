//go:build js

package main

import (
	"fmt"
	"syscall/js"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// logLevels orders the logLevel option's values; a message is printed when
// its level is at or above the option's.
var logLevels = map[string]int{"debug": 0, "info": 1, "warn": 2, "error": 3, "none": 4}

// consoleLogger is whatsmeow's logger on the browser console, by level:
// errors through console.error and warnings through console.warn, so that
// devtools, Playwright's console events and Electron's console-message
// tell them apart (waLog.Stdout writes everything through console.log).
type consoleLogger struct {
	module string
	min    int
}

func newLogger(clientID, level string) waLog.Logger {
	if level == "none" {
		return waLog.Noop
	}
	return &consoleLogger{module: "wasmeow/" + clientID, min: logLevels[level]}
}

func (l *consoleLogger) print(level int, method, name, msg string, args []any) {
	if level < l.min {
		return
	}
	console := js.Global().Get("console")
	if console.Type() != js.TypeObject {
		return
	}
	console.Call(method, fmt.Sprintf("[%s %s] %s", l.module, name, fmt.Sprintf(msg, args...)))
}

func (l *consoleLogger) Errorf(msg string, args ...any) { l.print(3, "error", "ERROR", msg, args) }
func (l *consoleLogger) Warnf(msg string, args ...any)  { l.print(2, "warn", "WARN", msg, args) }
func (l *consoleLogger) Infof(msg string, args ...any)  { l.print(1, "info", "INFO", msg, args) }
func (l *consoleLogger) Debugf(msg string, args ...any) { l.print(0, "debug", "DEBUG", msg, args) }
func (l *consoleLogger) Sub(module string) waLog.Logger {
	return &consoleLogger{module: l.module + "/" + module, min: l.min}
}
