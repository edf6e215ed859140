package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// The media proxy: whatsmeow also makes HTTP requests (media upload and
// download, history-sync and app-state blobs, profile pictures), with the
// Origin and Referer of web.whatsapp.com. A page cannot set those headers,
// and the media hosts are not known to answer another origin with CORS
// headers, so a page sends them through the relay instead (docs/RELAY.md).

// Defaults of the media proxy's Config fields.
const (
	DefaultMaxMediaSize = 100 << 20 // the maxContentLengthBytes media_conn hosts announce in fakewa
	DefaultMediaTimeout = 10 * time.Minute
)

// mediaResponseHeaderTimeout bounds the wait for the media host's answer
// once the request (and its upload body) is sent.
const mediaResponseHeaderTimeout = time.Minute

// errMediaTooLarge ends a body that goes past MaxMediaSize.
var errMediaTooLarge = errors.New("relay: body larger than the media size limit")

func (c *Config) mediaDefaults() {
	if c.MediaHosts == nil {
		c.MediaHosts = DefaultMediaHosts
	}
	if c.MaxMediaSize == 0 {
		c.MaxMediaSize = DefaultMaxMediaSize
	}
	if c.MaxMediaSize < 0 {
		c.MaxMediaSize = math.MaxInt64
	}
	if c.MediaTimeout <= 0 {
		c.MediaTimeout = DefaultMediaTimeout
	}
	if c.MediaTransport == nil {
		c.MediaTransport = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: c.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   c.DialTimeout,
			ResponseHeaderTimeout: mediaResponseHeaderTimeout,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
			ForceAttemptHTTP2:     true,
		}
	}
}

// MediaHandler serves the media proxy; mount it at MediaPrefix ("/media/").
// GET, HEAD and POST to /media/<host>/<path>?<query> are sent to
// https://<host>/<path>?<query> if host matches Config.MediaHosts, with
// WhatsApp's Origin and Referer, bodies streamed both ways up to
// MaxMediaSize; OPTIONS preflights are answered. The Host and Origin checks
// and the connection limits of the WebSocket side apply (a request in
// flight holds a slot), and only allowed pages get CORS headers.
func (r *Relay) MediaHandler() http.Handler { return http.HandlerFunc(r.serveMedia) }

func (r *Relay) serveMedia(w http.ResponseWriter, req *http.Request) {
	if r.ctx.Err() != nil {
		http.Error(w, "relay: closed", http.StatusServiceUnavailable)
		return
	}
	if !r.allowed(w, req) {
		return // 403 without CORS headers: the page cannot even read why
	}
	setCORS(w, req)
	switch req.Method {
	case http.MethodOptions:
		answerPreflight(w, req)
		return
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST, OPTIONS")
		http.Error(w, "relay: the media proxy forwards GET, HEAD and POST only", http.StatusMethodNotAllowed)
		return
	}
	target, terr := mediaTarget(req, r.cfg.MediaHosts)
	if terr != nil {
		r.refused.Add(1)
		r.log.Warnf("Refused media %s %s from %s: %s", req.Method, req.URL.Path, req.RemoteAddr, terr.msg)
		http.Error(w, terr.msg, terr.status)
		return
	}
	if req.ContentLength > r.cfg.MaxMediaSize {
		r.tooLarge(w, fmt.Sprintf("relay: upload of %d bytes is larger than this relay's limit of %d (-media-max-size)", req.ContentLength, r.cfg.MaxMediaSize))
		return
	}
	release := r.slotOrRefuse(w, req, "media request")
	if release == nil {
		return
	}
	defer release()
	r.mediaRequests.Add(1)
	r.forwardMedia(w, req, target)
}

// forwardMedia makes the upstream request and streams its answer back.
func (r *Relay) forwardMedia(w http.ResponseWriter, req *http.Request, target string) {
	ctx, cancel := context.WithTimeout(req.Context(), r.cfg.MediaTimeout)
	defer cancel()
	stop := context.AfterFunc(r.ctx, cancel) // Close ends requests in flight
	defer stop()

	var body io.Reader
	var upload *limitedReader
	if req.Method == http.MethodPost && req.ContentLength == 0 {
		body = http.NoBody
	} else if req.Method == http.MethodPost {
		upload = &limitedReader{r: req.Body, left: r.cfg.MaxMediaSize, count: &r.mediaBytesUp}
		body = upload
	}
	out, err := http.NewRequestWithContext(ctx, req.Method, target, body)
	if err != nil {
		http.Error(w, "relay: "+err.Error(), http.StatusBadRequest)
		return
	}
	if upload != nil {
		out.ContentLength = req.ContentLength // -1 (unknown) streams chunked
	}
	copyHeaders(out.Header, req.Header, forwardedRequestHeaders)
	out.Header.Set("Origin", r.cfg.Origin)
	out.Header.Set("Referer", r.cfg.Origin+"/")

	resp, err := r.cfg.MediaTransport.RoundTrip(out)
	if err != nil {
		switch {
		case upload != nil && upload.over.Load():
			r.tooLarge(w, fmt.Sprintf("relay: upload larger than this relay's limit of %d bytes (-media-max-size)", r.cfg.MaxMediaSize))
		case r.ctx.Err() != nil:
			http.Error(w, "relay: shutting down", http.StatusServiceUnavailable)
		case req.Context().Err() != nil:
			// The page went away; nobody reads an answer.
		case isTimeout(err):
			r.log.Warnf("Media %s %s: no answer in time: %v", req.Method, target, err)
			http.Error(w, fmt.Sprintf("relay: %s did not answer in time (-media-timeout %s): %v", out.URL.Host, r.cfg.MediaTimeout, err), http.StatusGatewayTimeout)
		default:
			r.log.Warnf("Media %s %s failed: %v", req.Method, target, err)
			http.Error(w, fmt.Sprintf("relay: %s unreachable: %v", out.URL.Host, err), http.StatusBadGateway)
		}
		return
	}
	defer resp.Body.Close()
	if resp.ContentLength > r.cfg.MaxMediaSize {
		r.tooLarge(w, fmt.Sprintf("relay: %s answered with %d bytes, more than this relay's limit of %d (-media-max-size)", out.URL.Host, resp.ContentLength, r.cfg.MaxMediaSize))
		return
	}
	copyHeaders(w.Header(), resp.Header, forwardedResponseHeaders)
	if loc := resp.Header.Get("Location"); loc != "" {
		if to := relayLocation(loc, out.URL, r.cfg.MediaHosts); to != "" {
			w.Header().Set("Location", to)
		}
	}
	w.WriteHeader(resp.StatusCode)
	r.log.Debugf("Media %s %s: %s", req.Method, target, resp.Status)
	if req.Method == http.MethodHead {
		return
	}
	down := &limitedReader{r: resp.Body, left: r.cfg.MaxMediaSize, count: &r.mediaBytesDown}
	if _, err := io.Copy(w, down); err != nil {
		// The status is sent: only a broken connection tells the page that
		// the body is not whole (a chunked body ended here would look so).
		r.log.Warnf("Media %s %s: body cut: %v", req.Method, target, err)
		panic(http.ErrAbortHandler)
	}
}

// tooLarge answers 413 with why.
func (r *Relay) tooLarge(w http.ResponseWriter, why string) {
	r.log.Warnf("%s", why)
	http.Error(w, why, http.StatusRequestEntityTooLarge)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// limitedReader reads at most left bytes, then fails with errMediaTooLarge
// (and sets over) if more come; it counts what it passes on.
type limitedReader struct {
	r     io.Reader
	left  int64
	over  atomic.Bool // read by the handler after the transport's goroutine
	count *atomic.Int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left < math.MaxInt64 && int64(len(p)) > l.left+1 {
		p = p[:l.left+1] // one byte more than allowed tells "too large" from "exactly the limit"
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		n = int(l.left)
		l.over.Store(true)
		err = errMediaTooLarge
	}
	l.left -= int64(n)
	l.count.Add(int64(n))
	return n, err
}

// DialEverything is a transport that connects to addr over plain TCP for
// every URL, https:// included: the media proxy's upstream in tests, where
// fakewa serves every media host on its one listener (cmd/relay -media-dial).
func DialEverything(addr string) http.RoundTripper {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	return &http.Transport{DialContext: dial, DialTLSContext: dial, ResponseHeaderTimeout: mediaResponseHeaderTimeout}
}
