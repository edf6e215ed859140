// Command demo serves the wasmeow demo page on 127.0.0.1.
//
// By default it runs the offline WhatsApp double (fakewa) in the same process,
// with a demo account whose simulated phone (the /phone page) links the
// browser client, and a peer account to chat with. With -upstream it relays
// the page's WhatsApp socket to a real server instead.
//
//	go run ./cmd/demo                                          # offline
//	go run ./cmd/demo -upstream wss://web.whatsapp.com/ws/chat # real WhatsApp
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/fakewa"
	"github.com/wasmeow/wasmeow/relay"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		addr     = flag.String("addr", "127.0.0.1:8080", "address to serve on; a free port is used if this one is taken")
		upstream = flag.String("upstream", "", "relay the page's WhatsApp socket to this ws(s):// URL instead of running the offline server")
		rootKey  = flag.String("upstream-root-key", "", "relay mode only: base64 root key the page should trust (for an upstream that is a fakewa, not WhatsApp)")
		root     = flag.String("root", "", "repository root holding web/ and dist/ (default: found from the working directory)")
		phone    = flag.String("phone", "15550100001", "offline mode: phone number of the demo account the simulated phone owns")
		peer     = flag.String("peer", "15550100002", "offline mode: phone number of the peer account to chat with")
		verbose  = flag.Bool("v", false, "log every node the offline server sends and receives")
		logLevel = flag.String("log", "INFO", "log level: DEBUG, INFO, WARN or ERROR")
		quiet    = flag.Bool("quiet", false, "print only the URL line (for scripts and tests)")
	)
	flag.Parse()

	repo, err := findRoot(*root)
	if err != nil {
		return err
	}
	files, err := newFileSet(repo)
	if err != nil {
		return err
	}

	level := *logLevel
	if *quiet {
		level = "WARN"
	}
	log := waLog.Stdout("demo", level, true)

	cfg := pageConfig{Mode: "offline"}
	mux := http.NewServeMux()
	var closers []func() error

	if *upstream != "" {
		rl, err := relay.New(relay.Config{Upstream: *upstream, Log: log.Sub("relay")})
		if err != nil {
			return err
		}
		closers = append(closers, rl.Close)
		mux.Handle("/ws/chat", rl)
		cfg.Mode = "relay"
		cfg.Upstream = *upstream
		cfg.TrustRootKey = *rootKey
	} else {
		fw, err := fakewa.New(fakewa.Config{Log: log.Sub("fakewa"), Verbose: *verbose})
		if err != nil {
			return err
		}
		closers = append(closers, fw.Close)
		mux.Handle("/ws/chat", fw)
		mux.Handle("/api/", fw)
		key := fw.RootPublicKey()
		cfg.TrustRootKey = encodeKey(key[:])
		if cfg.Phone, err = fw.CreateAccount(*phone, "Demo Phone"); err != nil {
			return fmt.Errorf("creating the demo account %s: %w", *phone, err)
		}
		if cfg.Peer, err = fw.CreateAccount(*peer, "Alice (peer)"); err != nil {
			return fmt.Errorf("creating the peer account %s: %w", *peer, err)
		}
		cfg.Phone.Devices, cfg.Peer.Devices = nil, nil // the pages ask fakewa for live ones
	}
	files.register(mux, cfg)

	ln, err := listen(*addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String() + "/"
	srv := &http.Server{Handler: logRequests(mux, log), ReadHeaderTimeout: 10 * time.Second}

	if cfg.Mode == "offline" {
		fmt.Printf("\nwasmeow demo on an offline WhatsApp double: account +%s (its phone is simulated), peer +%s\n",
			cfg.Phone.Phone, cfg.Peer.Phone)
		fmt.Printf("  demo page:        %s\n  simulated phone:  %sphone\n", url, url)
	} else {
		fmt.Printf("\nwasmeow demo relaying the WhatsApp socket to %s\n  demo page:        %s\n", *upstream, url)
	}
	if !*quiet {
		fmt.Print("Open the demo page in a browser; Ctrl-C stops the demo.\n\n")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	for _, c := range closers {
		_ = c()
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	}
	return nil
}

// listen listens on addr, or on a free port of the same host if addr's port
// is taken, so that a second demo or another program on 8080 is no obstacle.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	host, _, splitErr := net.SplitHostPort(addr)
	if splitErr != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	fallback, err2 := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err2 != nil {
		return nil, fmt.Errorf("listening on %s: %w (and on a free port: %v)", addr, err, err2)
	}
	fmt.Fprintf(os.Stderr, "demo: %s is taken (%v); using %s\n", addr, err, fallback.Addr())
	return fallback, nil
}

// logRequests logs non-asset requests at debug level.
func logRequests(h http.Handler, log waLog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Debugf("%s %s", r.Method, r.URL.Path)
		h.ServeHTTP(w, r)
	})
}
