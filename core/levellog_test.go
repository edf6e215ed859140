package core

import (
	"strings"
	"testing"

	signalLog "go.mau.fi/libsignal/logger"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// countingArg counts how often a logger formats it.
type countingArg struct{ n *int }

func (c countingArg) String() string { *c.n++; return "arg" }

func TestLevelLoggerFormatsNothingBelowItsLevel(t *testing.T) {
	var lines []string
	sink := func(level int, line string) { lines = append(lines, line) }
	formatted := 0
	arg := countingArg{&formatted}

	log := NewLevelLogger("wasmeow/x", "warn", sink).Sub("Recv")
	log.Debugf("%s", arg)
	log.Infof("%s", arg)
	if formatted != 0 || len(lines) != 0 {
		t.Fatalf("at warn, debug and info formatted their argument %d times and wrote %q", formatted, lines)
	}
	log.Warnf("w %s", arg)
	log.Errorf("e %s", arg)
	if formatted != 2 || len(lines) != 2 || lines[0] != "[wasmeow/x/Recv WARN] w arg" || lines[1] != "[wasmeow/x/Recv ERROR] e arg" {
		t.Fatalf("warn and error: formatted %d times, wrote %q", formatted, lines)
	}

	lines, formatted = nil, 0
	debug := NewLevelLogger("m", "debug", sink)
	debug.Debugf("%s", arg)
	if formatted != 1 || len(lines) != 1 {
		t.Fatalf("at debug: formatted %d times, wrote %q", formatted, lines)
	}
	if NewLevelLogger("m", "none", sink) != waLog.Noop {
		t.Fatal("at none the logger is not waLog.Noop")
	}
}

func TestSignalLogSilentUntilAllowed(t *testing.T) {
	var lines []string
	l := InstallSignalLog(func(level int, line string) { lines = append(lines, line) })
	signalLog.Debug("d")
	signalLog.Error("e")
	if len(lines) != 0 {
		t.Fatalf("before any Allow it wrote %q", lines)
	}
	l.Allow("error")
	l.Allow("none") // never less verbose than asked before
	signalLog.Debug("d")
	signalLog.Error("e")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "[libsignal ERROR] levellog_test.go:") || !strings.HasSuffix(lines[0], ": e") {
		t.Fatalf("at error it wrote %q", lines)
	}
}
