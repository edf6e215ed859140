package core

import (
	"fmt"
	"slices"
	"sync/atomic"

	signalLog "go.mau.fi/libsignal/logger"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// LogSink writes one formatted line at a level (an index into LogLevels:
// 0 debug … 3 error).
type LogSink func(level int, line string)

// levelIndex is level's place in LogLevels; an unknown level is "none".
func levelIndex(level string) int {
	if i := slices.Index(LogLevels, level); i >= 0 {
		return i
	}
	return len(LogLevels) - 1
}

// NewLevelLogger is whatsmeow's logger for one client: lines below level are
// dropped before anything is formatted (whatsmeow logs on every frame, so a
// disabled level must cost no more than the call), and at "none" it is
// waLog.Noop.
//
// What it cannot remove: whatsmeow passes node.XMLString() as an argument
// of its Recv and Send debug lines (client.go handleFrame and
// sendNodeAndGetData at the pin), so that string is built for every frame
// before any logger sees the call; skipping it needs a change in whatsmeow.
func NewLevelLogger(module, level string, sink LogSink) waLog.Logger {
	min := levelIndex(level)
	if min >= len(LogLevels)-1 {
		return waLog.Noop
	}
	return &levelLogger{module: module, min: min, sink: sink}
}

type levelLogger struct {
	module string
	min    int
	sink   LogSink
}

var levelNames = [...]string{"DEBUG", "INFO", "WARN", "ERROR"}

func (l *levelLogger) print(level int, msg string, args []any) {
	if level < l.min {
		return
	}
	l.sink(level, fmt.Sprintf("[%s %s] %s", l.module, levelNames[level], fmt.Sprintf(msg, args...)))
}

func (l *levelLogger) Errorf(msg string, args ...any) { l.print(3, msg, args) }
func (l *levelLogger) Warnf(msg string, args ...any)  { l.print(2, msg, args) }
func (l *levelLogger) Infof(msg string, args ...any)  { l.print(1, msg, args) }
func (l *levelLogger) Debugf(msg string, args ...any) { l.print(0, msg, args) }
func (l *levelLogger) Sub(module string) waLog.Logger {
	return &levelLogger{module: l.module + "/" + module, min: l.min, sink: l.sink}
}

// SignalLog is libsignal's process-wide log (go.mau.fi/libsignal/logger),
// as verbose as the most verbose client asks (Allow) and silent until one
// does. libsignal's own default prints every line through fmt.
//
// What it cannot remove: libsignal's package functions (logger.Debug, …)
// call runtime.Caller and fmt.Sprint on their arguments before they reach
// any Loggable, several times per decryption; only a patched libsignal
// could skip that, and wasmeow does not patch its dependencies.
type SignalLog struct {
	min  atomic.Int32
	sink LogSink
}

// InstallSignalLog makes a SignalLog writing to sink libsignal's logger.
func InstallSignalLog(sink LogSink) *SignalLog {
	l := &SignalLog{sink: sink}
	l.min.Store(int32(len(LogLevels) - 1))
	var loggable signalLog.Loggable = l
	signalLog.Setup(&loggable)
	return l
}

// Allow makes the log at least as verbose as level.
func (l *SignalLog) Allow(level string) {
	n := int32(levelIndex(level))
	for {
		cur := l.min.Load()
		if n >= cur || l.min.CompareAndSwap(cur, n) {
			return
		}
	}
}

func (l *SignalLog) print(level int, caller, msg string) {
	if int32(level) < l.min.Load() {
		return
	}
	l.sink(level, fmt.Sprintf("[libsignal %s] %s: %s", levelNames[level], caller, msg))
}

func (l *SignalLog) Debug(caller, msg string)   { l.print(0, caller, msg) }
func (l *SignalLog) Info(caller, msg string)    { l.print(1, caller, msg) }
func (l *SignalLog) Warning(caller, msg string) { l.print(2, caller, msg) }
func (l *SignalLog) Error(caller, msg string)   { l.print(3, caller, msg) }
func (l *SignalLog) Configure(string)           {}
