package relay

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// ServeUntil serves srv on ln until ctx ends (or serving fails), then shuts
// it down, giving open requests three seconds; the commands that run a relay
// share it. Close the Relay afterwards: Shutdown does not wait for hijacked
// WebSocket connections.
func ServeUntil(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
