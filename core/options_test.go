//go:build !js

package core

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	if o := DefaultOptions(); o.Validate() != nil {
		t.Fatalf("the defaults are invalid: %v", o.Validate())
	}
	for name, c := range map[string]struct {
		change func(*Options)
		says   string
	}{
		"strategy":        {func(o *Options) { o.Strategy = "cloud" }, "auth.strategy"},
		"clientId":        {func(o *Options) { o.ClientID = "a b" }, "auth.clientId"},
		"long clientId":   {func(o *Options) { o.ClientID = strings.Repeat("a", 65) }, "auth.clientId"},
		"dbName colon":    {func(o *Options) { o.DBName = "a:b" }, "auth.dbName"},
		"empty dbName":    {func(o *Options) { o.DBName = "" }, "auth.dbName"},
		"deviceName":      {func(o *Options) { o.DeviceName = "" }, "deviceName"},
		"logLevel":        {func(o *Options) { o.LogLevel = "trace" }, "logLevel"},
		"qrMaxRetries":    {func(o *Options) { o.QRMaxRetries = 101 }, "qrMaxRetries"},
		"short qr":        {func(o *Options) { o.QRTimeout = time.Millisecond }, "qrTimeoutMs"},
		"backup interval": {func(o *Options) { o.BackupInterval = time.Millisecond }, "auth.backupSyncIntervalMs"},
		"store timeout":   {func(o *Options) { o.StoreTimeout = time.Hour }, "auth.storeTimeoutMs"},
	} {
		o := DefaultOptions()
		c.change(&o)
		err := o.Validate()
		if CodeOf(err) != CodeInvalidOption || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want an invalid_option naming %s", name, err, c.says)
		}
		if _, err := New(context.Background(), Config{Options: o}); CodeOf(err) != CodeInvalidOption {
			t.Errorf("%s: New accepted it (%v)", name, err)
		}
	}
	remote := DefaultOptions()
	remote.Strategy = StrategyRemote
	if _, err := New(context.Background(), Config{Options: remote}); CodeOf(err) != CodeInvalidOption {
		t.Errorf("strategy remote without a store: %v", err)
	}
}

func TestPageSettingsAreSetOnce(t *testing.T) {
	set := CurrentPage()
	if err := SetPage(set); err != nil {
		t.Fatalf("the same settings again: %v", err)
	}
	if err := SetPage(Page{SocketURL: "ws://elsewhere.example/ws/chat", TrustRootKey: set.TrustRootKey}); CodeOf(err) != CodeInvalidOption {
		t.Fatalf("another socketURL: %v", err)
	}
	for _, bad := range []Page{{SocketURL: "http://x/ws"}, {SocketURL: "ws://"}, {TrustRootKey: make([]byte, 31)}} {
		if err := bad.Validate(); CodeOf(err) != CodeInvalidOption {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if CurrentPage().SocketURL != set.SocketURL {
		t.Fatal("a refused call changed the settings")
	}
}
