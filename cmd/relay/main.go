// Command relay runs the wasmeow relay on its own: it relays browser
// WebSockets on /ws/chat to WhatsApp with the Origin WhatsApp expects,
// forwards HTTP requests on /media/<host>/... to WhatsApp's media hosts, and
// serves the current WhatsApp Web version on GET /version (see docs/RELAY.md).
//
//	go run ./cmd/relay -addr 127.0.0.1:8090 -allow-origin 'localhost:*' -wa-version 2.3000.1031080782
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/relay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(2)
	}
}

// server is a configured relay and its routes.
type server struct {
	addr    string
	relay   *relay.Relay
	handler http.Handler
}

// newServer parses args and builds the relay and its routes.
func newServer(args []string, stderr io.Writer) (*server, error) {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg relay.Config
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on (plain HTTP: put a TLS proxy in front for other machines)")
	fs.StringVar(&cfg.Upstream, "upstream", "wss://web.whatsapp.com/ws/chat", "ws(s):// URL every browser socket is relayed to")
	fs.StringVar(&cfg.Origin, "origin", relay.WhatsAppOrigin, "Origin header sent to the upstream")
	level := fs.String("log", "INFO", "log level: DEBUG, INFO, WARN or ERROR")
	mediaDial := fs.String("media-dial", "", "testing only: send every media request to this host:port over plain TCP, whatever its host (fakewa's listener)")
	cfg.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Log = waLog.Stdout("relay", *level, true)
	if *mediaDial != "" {
		cfg.MediaTransport = relay.DialEverything(*mediaDial)
	}
	rl, err := relay.New(cfg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws/chat", rl)
	mux.Handle("/version", rl.VersionHandler())
	mux.Handle(relay.MediaPrefix, rl.MediaHandler())
	return &server{addr: *addr, relay: rl, handler: relay.RequireHost(cfg.AllowedHosts, mux)}, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, err := newServer(args, stderr)
	if err != nil {
		return err
	}
	defer s.relay.Close()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "relay socket URL: ws://%s/ws/chat\nversion URL:      http://%s/version\nmedia proxy URL:  http://%s%s\n",
		ln.Addr(), ln.Addr(), ln.Addr(), relay.MediaPrefix)
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	return relay.ServeUntil(ctx, srv, ln)
}
