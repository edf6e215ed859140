//go:build !js

package fakewa

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mau.fi/libsignal/ecc"
	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow/proto/waCert"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// Config configures a Server. The zero value works.
type Config struct {
	// Log receives readable logs; nil means stdout at INFO.
	Log waLog.Logger
	// Verbose prints every node sent and received in its XML form.
	Verbose bool
	// QRRefs is how many refs one pair-device offers (default 6, as the real
	// service). The QR flow lasts 60 s for the first and 20 s for each other;
	// then the server closes the unpaired socket.
	QRRefs int
	// QRTimeout is how long one pair-device offer lasts before the server
	// closes the unpaired socket; default 60 s + 20 s per extra ref.
	QRTimeout time.Duration
	// RootKey is the private root key of the certificate chain; nil makes a
	// random one. whatsmeow.WACertPubKey is process-wide, so tests that run
	// several servers in one process give them the same key.
	RootKey *[32]byte
	// RequestTimeout bounds how long the server waits for a client's answer to
	// its own requests (pair-success, link-code notification). Default 20 s.
	RequestTimeout time.Duration
	// RedeliverAfter is how long a delivered message may stay unacknowledged
	// on a live socket before it is sent again. Default 10 s.
	RedeliverAfter time.Duration
	// Contacts is how many address-book contacts (realistic names, made-up
	// numbers) a new account's phone holds in its app state; 0 means
	// DefaultContacts, negative none.
	Contacts int
	// MediaHosts are the host names media_conn announces (default
	// DefaultMediaHosts); fakewa serves them all on its one listener.
	MediaHosts []string

	// Behaviour of today's service, all on by default (docs/SERVICE.md); the
	// control API changes them at run time (POST /api/settings).
	Settings
}

// Settings are the switches between today's service (the zero value) and
// older behaviour. See docs/SERVICE.md for the evidence behind each.
type Settings struct {
	// MinVersion is the oldest web client version accepted; older ones get
	// <failure reason="405"/>. Zero means DefaultMinVersion.
	MinVersion store.WAVersionContainer `json:"-"`
	// AllowOutdated turns the version check off.
	AllowOutdated bool `json:"allowOutdated"`
	// PNAddressing delivers 1:1 messages and receipts by phone number with
	// sender_lid, as the service did before LIDs, and the phone sends no LID
	// migration sync.
	PNAddressing bool `json:"pnAddressing"`
	// NoTCTokenCheck delivers 1:1 messages that lack the privacy token the
	// recipient issued to the sender, instead of refusing them with 463.
	NoTCTokenCheck bool `json:"noTCTokenCheck"`
	// MediaCORS answers media host requests with CORS headers (preflight
	// included), so a page on any origin may fetch blobs directly.
	MediaCORS bool `json:"mediaCORS"`
}

// Server is the WhatsApp double. Create it with New.
type Server struct {
	cfg Config
	log waLog.Logger

	root      *keys.KeyPair
	static    *keys.KeyPair
	certChain []byte

	mu       sync.Mutex
	accounts map[string]*account     // by phone number
	byLID    map[string]*account     // by LID user
	devices  map[types.JID]*device   // by PN device JID (user, device, s.whatsapp.net)
	qrRefs   map[string]*conn        // live QR refs
	linkRegs map[string]*linkCodeReg // companions waiting for a pairing code, by phone
	conns    map[*conn]struct{}
	closed   bool
	stopped  chan struct{} // closed by Close

	idCounter atomic.Uint64
	connCount atomic.Uint64

	settings         Settings      // guarded by mu
	groups           groupState    // group chats (groups.go)
	presence         presenceState // who is online and who watches whom (presence.go)
	pictures         pictureState  // profile and group pictures (pictures.go)
	tokens           map[tokenKey][]issuedToken
	chats            map[[2]string]bool                          // pairs of accounts that exchanged 1:1 messages (chatKey)
	cutNext          []int                                       // fault injection armed for the next connections (afterFrames each)
	losePairConfirms int                                         // fault injection: pair confirmations to lose (the companion's answer to pair-success)
	failPreKeyFetch  int                                         // fault injection: prekey fetches to answer with a server error
	loseHistory      []waHistorySync.HistorySync_HistorySyncType // fault injection: history blobs to lose (historyretry.go)
	routed           recentStanzas                               // message stanzas already routed, so a resend is acked and not routed twice
	media            mediaHost                                   // blobs: uploads, downloads, history and app state

	mux      *http.ServeMux
	httpSrv  *http.Server
	listener net.Listener
	baseURL  string
	wg       sync.WaitGroup
}

// ErrClosed is returned by calls on a closed Server.
var ErrClosed = errors.New("fakewa: server closed")

// New creates a server with fresh keys and no accounts.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = waLog.Stdout("fakewa", "INFO", false)
	}
	if cfg.QRRefs <= 0 {
		cfg.QRRefs = 6
	}
	if cfg.QRTimeout <= 0 {
		cfg.QRTimeout = 60*time.Second + time.Duration(cfg.QRRefs-1)*20*time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 20 * time.Second
	}
	if cfg.RedeliverAfter <= 0 {
		cfg.RedeliverAfter = 10 * time.Second
	}
	if cfg.MinVersion.IsZero() {
		cfg.MinVersion = DefaultMinVersion
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Log,
		static:   keys.NewKeyPair(),
		accounts: make(map[string]*account),
		byLID:    make(map[string]*account),
		devices:  make(map[types.JID]*device),
		qrRefs:   make(map[string]*conn),
		linkRegs: make(map[string]*linkCodeReg),
		conns:    make(map[*conn]struct{}),
		stopped:  make(chan struct{}),
		settings: cfg.Settings,
		tokens:   make(map[tokenKey][]issuedToken),
		chats:    make(map[[2]string]bool),
	}
	if cfg.RootKey != nil {
		priv := *cfg.RootKey
		// Clamp as keys.NewKeyPair does, so XEdDSA signatures match the public key.
		priv[0] &= 248
		priv[31] &= 127
		priv[31] |= 64
		s.root = keys.NewKeyPairFromPrivateKey(priv)
	} else {
		s.root = keys.NewKeyPair()
	}
	chain, err := makeCertChain(s.root, s.static)
	if err != nil {
		return nil, fmt.Errorf("fakewa: building certificate chain: %w", err)
	}
	s.certChain = chain
	s.mux = s.routes()
	s.wg.Add(1)
	go s.redeliverLoop()
	return s, nil
}

// makeCertChain signs an intermediate with the root and a leaf naming the
// server's static Noise key with the intermediate, as verifyServerCert expects.
func makeCertChain(root, static *keys.KeyPair) ([]byte, error) {
	const serial = 1
	intermediate := keys.NewKeyPair()
	interDetails, err := proto.Marshal(&waCert.CertChain_NoiseCertificate_Details{
		Serial:       proto.Uint32(serial),
		IssuerSerial: proto.Uint32(0),
		Key:          intermediate.Pub[:],
		NotBefore:    proto.Uint64(uint64(time.Now().Add(-time.Hour).Unix())),
		NotAfter:     proto.Uint64(uint64(time.Now().Add(10 * 365 * 24 * time.Hour).Unix())),
	})
	if err != nil {
		return nil, err
	}
	leafDetails, err := proto.Marshal(&waCert.CertChain_NoiseCertificate_Details{
		Serial:       proto.Uint32(serial + 1),
		IssuerSerial: proto.Uint32(serial),
		Key:          static.Pub[:],
		NotBefore:    proto.Uint64(uint64(time.Now().Add(-time.Hour).Unix())),
		NotAfter:     proto.Uint64(uint64(time.Now().Add(10 * 365 * 24 * time.Hour).Unix())),
	})
	if err != nil {
		return nil, err
	}
	interSig := ecc.CalculateSignature(ecc.NewDjbECPrivateKey(*root.Priv), interDetails)
	leafSig := ecc.CalculateSignature(ecc.NewDjbECPrivateKey(*intermediate.Priv), leafDetails)
	return proto.Marshal(&waCert.CertChain{
		Intermediate: &waCert.CertChain_NoiseCertificate{Details: interDetails, Signature: interSig[:]},
		Leaf:         &waCert.CertChain_NoiseCertificate{Details: leafDetails, Signature: leafSig[:]},
	})
}

// RootPublicKey is the key clients must trust (whatsmeow.WACertPubKey).
func (s *Server) RootPublicKey() [32]byte { return *s.root.Pub }

// ServeHTTP serves the websocket at /ws/chat and the control API under /api/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Listen serves on addr (e.g. "127.0.0.1:0") in the background and returns
// the base URL, e.g. "http://127.0.0.1:PORT".
func (s *Server) Listen(addr string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	if s.listener != nil {
		return "", fmt.Errorf("fakewa: already listening on %s", s.baseURL)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("fakewa: listen on %s: %w", addr, err)
	}
	s.listener = l
	s.baseURL = "http://" + l.Addr().String()
	s.httpSrv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.httpSrv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Errorf("HTTP server on %s stopped: %v", l.Addr(), err)
		}
	}()
	s.log.Infof("Listening on %s", s.baseURL)
	return s.baseURL, nil
}

// HTTPClient returns an http.Client that sends every request, whatever its
// URL, to this server's listener over plain TCP. A native whatsmeow client
// given it with SetPreLoginHTTPClient and SetWebsocketHTTPClient reaches the
// double while dialing its constant wss://web.whatsapp.com URL; with
// SetMediaHTTPClient its uploads and downloads reach the double's media
// hosts (https://mmg.whatsapp.net/... and the others it announces).
func (s *Server) HTTPClient() *http.Client {
	s.mu.Lock()
	addr := ""
	if s.listener != nil {
		addr = s.listener.Addr().String()
	}
	s.mu.Unlock()
	return HTTPClientFor(addr)
}

// HTTPClientFor is HTTPClient for a double listening at addr (host:port),
// e.g. a cmd/fakewa process: every connection, whatever its URL, goes there.
func HTTPClientFor(addr string) *http.Client {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		if addr == "" {
			return nil, fmt.Errorf("fakewa: HTTPClient used before Listen")
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	return &http.Client{Transport: &http.Transport{DialContext: dial, DialTLSContext: dial, ForceAttemptHTTP2: false}}
}

// WebsocketURL is the ws:// URL of the chat socket once Listen has run.
func (s *Server) WebsocketURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "ws" + strings.TrimPrefix(s.baseURL, "http") + "/ws/chat"
}

// Close stops listening and drops every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stopped)
	srv := s.httpSrv
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// Hijacked websocket connections are not tracked by Shutdown.
		err = srv.Shutdown(ctx)
	}
	for _, c := range conns {
		c.cut()
	}
	s.wg.Wait()
	return err
}

// newID makes a server-side stanza id. Client ids look like "123.45-6"; these
// never contain a dot, so the client never takes them for its own replies.
func (s *Server) newID() string {
	return fmt.Sprintf("fw%X", s.idCounter.Add(1))
}

// newMessageID makes a message id in the style of the real clients.
func newMessageID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "3EB0" + strings.ToUpper(hex.EncodeToString(b))
}
