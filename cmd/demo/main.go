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
	"encoding/json"
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

// options are the demo's command line.
type options struct {
	upstream, rootKey string
	phone, peer       string
	verbose           bool
	// relay configures relay mode; its Host and Origin rules apply to the
	// whole demo in both modes.
	relay relay.Config
}

func run() error {
	var o options
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve on; a free port is used if this one is taken")
	flag.StringVar(&o.upstream, "upstream", "", "relay the page's WhatsApp socket to this ws(s):// URL instead of running the offline server")
	flag.StringVar(&o.rootKey, "upstream-root-key", "", "relay mode only: base64 root key the page should trust (for an upstream that is a fakewa, not WhatsApp)")
	root := flag.String("root", "", "repository root holding web/ and dist/ (default: found from the working directory)")
	flag.StringVar(&o.phone, "phone", "15550100001", "offline mode: phone number of the demo account the simulated phone owns")
	flag.StringVar(&o.peer, "peer", "15550100002", "offline mode: phone number of the peer account to chat with")
	flag.BoolVar(&o.verbose, "v", false, "log every node the offline server sends and receives")
	logLevel := flag.String("log", "INFO", "log level: DEBUG, INFO, WARN or ERROR")
	quiet := flag.Bool("quiet", false, "print only the URL line (for scripts and tests)")
	o.relay.AddFlags(flag.CommandLine)
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

	d, err := newDemo(files, o, log)
	defer d.close()
	if err != nil {
		return err
	}
	cfg := d.cfg

	ln, err := listen(*addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String() + "/"
	srv := &http.Server{Handler: d.handler, ReadHeaderTimeout: 10 * time.Second}

	if cfg.Mode == "offline" {
		fmt.Printf("\nwasmeow demo on an offline WhatsApp double: account +%s (its phone is simulated), peer +%s\n",
			cfg.Phone.Phone, cfg.Peer.Phone)
		fmt.Printf("  demo page:        %s\n  simulated phone:  %sphone\n", url, url)
	} else {
		fmt.Printf("\nwasmeow demo relaying the WhatsApp socket to %s\n  demo page:        %s\n", o.upstream, url)
	}
	if !*quiet {
		fmt.Print("Open the demo page in a browser; Ctrl-C stops the demo.\n\n")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := relay.ServeUntil(ctx, srv, ln); err != nil {
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	}
	return nil
}

// demo is what the demo process serves.
type demo struct {
	handler http.Handler
	cfg     pageConfig
	closers []func() error
}

// newDemo builds the demo's handler: the pages, and either fakewa (its socket
// and its control API for the pages) or a relay to o.upstream, all behind
// the Host check.
func newDemo(files *fileSet, o options, log waLog.Logger) (*demo, error) {
	d := &demo{cfg: pageConfig{Mode: "offline"}}
	mux := http.NewServeMux()
	d.handler = relay.RequireHost(o.relay.AllowedHosts, logRequests(mux, log))
	if o.upstream != "" {
		rc := o.relay
		rc.Upstream, rc.Log = o.upstream, log.Sub("relay")
		rl, err := relay.New(rc)
		if err != nil {
			return d, err
		}
		d.closers = append(d.closers, rl.Close)
		mux.Handle("/ws/chat", rl)
		mux.Handle("GET /version", rl.VersionHandler())
		mux.Handle(relay.MediaPrefix, rl.MediaHandler())
		d.cfg.Mode, d.cfg.Upstream, d.cfg.TrustRootKey = "relay", o.upstream, o.rootKey
	} else {
		fw, err := fakewa.New(fakewa.Config{Log: log.Sub("fakewa"), Verbose: o.verbose})
		if err != nil {
			return d, err
		}
		d.closers = append(d.closers, fw.Close)
		mux.Handle("/ws/chat", ownOrigins(o.relay.AllowedOrigins, fw))
		mux.Handle("/api/", ownPagesOnly(fw))
		// Media uploads and downloads: the page's mediaProxyURL defaults to
		// this origin's /media/ (as a relay's), which fakewa answers for its
		// media hosts. Same origin only, as the control API.
		mux.Handle("/media/", ownPagesOnly(fw))
		// As a relay would: the module asks the socket's host for the version
		// to announce, and the double's is the one it accepts.
		mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(relay.VersionInfo{Version: fakewa.CurrentVersion.String(), Source: "service"})
		})
		key := fw.RootPublicKey()
		d.cfg.TrustRootKey = encodeKey(key[:])
		if d.cfg.Phone, err = fw.CreateAccount(o.phone, "Demo Phone"); err != nil {
			return d, fmt.Errorf("creating the demo account %s: %w", o.phone, err)
		}
		if d.cfg.Peer, err = fw.CreateAccount(o.peer, "Alice (peer)"); err != nil {
			return d, fmt.Errorf("creating the peer account %s: %w", o.peer, err)
		}
		d.cfg.Phone.Devices, d.cfg.Peer.Devices = nil, nil // the pages ask fakewa for live ones
	}
	files.register(mux, d.cfg)
	return d, nil
}

func (d *demo) close() {
	for _, c := range d.closers {
		_ = c()
	}
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
