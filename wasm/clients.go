//go:build js

package main

import (
	"context"
	"sync"
	"syscall/js"

	"github.com/wasmeow/wasmeow/core"
	"github.com/wasmeow/wasmeow/jsbridge"
)

// The page's live clients; createClient refuses a second client of an open
// local or remote session (one page must not open a session twice).
var (
	clientsMu sync.Mutex
	clients   = map[*client]struct{}{}
)

// usesDatabase: the strategy keeps the session in an IndexedDB database.
func usesDatabase(strategy string) bool {
	return strategy == core.StrategyLocal || strategy == core.StrategyRemote
}

// openHere reports whether a live client of this page has that session open.
func openHere(dbName, clientID string) bool {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	for c := range clients {
		o := c.core.Options()
		if usesDatabase(o.Strategy) && dbNameFor(o.DBName, o.ClientID) == dbNameFor(dbName, clientID) {
			return true
		}
	}
	return false
}

func createClient(ctx context.Context, v js.Value) (any, error) {
	o, err := parseOptions(v)
	if err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if usesDatabase(o.Strategy) && openHere(o.DBName, o.ClientID) {
		return nil, jsbridge.Errorf(core.CodeSessionInUse, "createClient: session %q (database %q) is already open in this page; destroy() that client first", o.ClientID, dbNameFor(o.DBName, o.ClientID))
	}
	c := &client{emitter: jsbridge.NewEmitter()}
	cfg := core.Config{Options: o.Options, Storage: storageFor(o), Log: newLogger(o.ClientID, o.LogLevel), Emit: c.emit}
	if o.Strategy == core.StrategyRemote {
		cfg.Remote = jsRemoteStore{obj: o.remoteStore, timeout: o.StoreTimeout}
	}
	c.log = cfg.Log
	c.emitter.OnListenerError = c.listenerThrew
	if c.core, err = core.New(ctx, cfg); err != nil {
		return nil, err
	}
	clientsMu.Lock()
	clients[c] = struct{}{}
	clientsMu.Unlock()
	return c.handle(), nil
}

func unregisterClient(c *client) {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	delete(clients, c)
}
