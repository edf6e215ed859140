//go:build js

package main

import (
	"fmt"
	"sync/atomic"
	"syscall/js"

	signalLog "go.mau.fi/libsignal/logger"

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
	pageSignalLog.allow(level)
	return &consoleLogger{module: "wasmeow/" + clientID, min: logLevels[level]}
}

func (l *consoleLogger) print(level int, method, name, msg string, args []any) {
	if level < l.min {
		return
	}
	toConsole(method, fmt.Sprintf("[%s %s] %s", l.module, name, fmt.Sprintf(msg, args...)))
}

func (l *consoleLogger) Errorf(msg string, args ...any) { l.print(3, "error", "ERROR", msg, args) }
func (l *consoleLogger) Warnf(msg string, args ...any)  { l.print(2, "warn", "WARN", msg, args) }
func (l *consoleLogger) Infof(msg string, args ...any)  { l.print(1, "info", "INFO", msg, args) }
func (l *consoleLogger) Debugf(msg string, args ...any) { l.print(0, "debug", "DEBUG", msg, args) }
func (l *consoleLogger) Sub(module string) waLog.Logger {
	return &consoleLogger{module: l.module + "/" + module, min: l.min}
}

// signalLogger routes libsignal's page-wide log (its default one prints
// everything through fmt, so console.log) by level, as verbose as the most
// verbose live client asks: a decrypt that fails is an error on the console,
// not a log line.
type signalLogger struct{ min atomic.Int32 }

var pageSignalLog = func() *signalLogger {
	l := &signalLogger{}
	l.min.Store(int32(logLevels["none"]))
	var loggable signalLog.Loggable = l
	signalLog.Setup(&loggable)
	return l
}()

// allow makes the log at least as verbose as level.
func (l *signalLogger) allow(level string) {
	n := int32(logLevels[level])
	for {
		cur := l.min.Load()
		if n >= cur || l.min.CompareAndSwap(cur, n) {
			return
		}
	}
}

func (l *signalLogger) print(level int, method, name, caller, msg string) {
	if int32(level) < l.min.Load() {
		return
	}
	toConsole(method, fmt.Sprintf("[libsignal %s] %s: %s", name, caller, msg))
}

func (l *signalLogger) Debug(caller, msg string)   { l.print(0, "debug", "DEBUG", caller, msg) }
func (l *signalLogger) Info(caller, msg string)    { l.print(1, "info", "INFO", caller, msg) }
func (l *signalLogger) Warning(caller, msg string) { l.print(2, "warn", "WARN", caller, msg) }
func (l *signalLogger) Error(caller, msg string)   { l.print(3, "error", "ERROR", caller, msg) }
func (l *signalLogger) Configure(string)           {}

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
