//go:build !js

package fakewa

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
)

// The media host: what the service's mmg hosts do for clients. A client
// asks <iq xmlns="w:m" type="set"><media_conn/></iq> for an upload auth token
// and host names, uploads an encrypted blob with
// POST https://<host>/mms/<type>/<token>?auth=..&token=.. (token = base64url
// of the blob's SHA-256) and gets {"url", "direct_path"}; anyone holding a
// message downloads GET https://<host><direct_path>&hash=..&mms-type=..
// (whatsmeow mediaconn.go, upload.go, download.go; Baileys
// Socket/messages-media getWAUploadToServer). fakewa serves both on its own
// listener whatever the Host header says: a native test client's media
// http.Client dials the listener for every host (Server.HTTPClient). See
// docs/SERVICE.md "Media hosts".

// DefaultMediaHosts are the host names fakewa announces in media_conn, the
// ones public clients document (whatsapp-rust wacore/src/iq/mediaconn.rs).
var DefaultMediaHosts = []string{"mmg.whatsapp.net", "mmg-fna.whatsapp.net"}

const (
	mediaAuthTTL     = 21600     // seconds an upload auth token stays valid
	mediaConnTTL     = 300       // seconds a client may reuse a media_conn answer
	mediaMaxBuckets  = 12        // announced; fakewa has no buckets
	mediaMaxBlobSize = 100 << 20 // maxContentLengthBytes, enforced on upload
	mediaURLLifetime = 14 * 24 * time.Hour
)

// mmsPathType is the CDN path segment of each upload type, as in the
// direct paths of real messages (t62.7118-24 images, t62.7119-24 documents
// and the others seen in public message dumps; those for history and app
// state are fakewa's own guess).
var mmsPathType = map[string]string{
	"image": "t62.7118-24", "video": "t62.7161-24", "audio": "t62.7114-24", "ptt": "t62.7114-24",
	"document": "t62.7119-24", "sticker": "t62.15575-24", "md-msg-hist": "t62.36145-24",
	"md-app-state": "t62.36147-24", "thumbnail-link": "t62.36144-24", "sticker-pack": "t62.15575-24",
}

// Blob failure modes for fault injection.
const (
	BlobOK      = ""
	BlobCorrupt = "corrupt" // served with one byte flipped: the hash checks fail
)

// mediaHost holds the blobs (the zero value is ready; its own lock).
type mediaHost struct {
	mu       sync.Mutex
	secret   []byte               // signs the oh parameter of direct paths
	auths    map[string]time.Time // upload auth tokens, with their expiry
	blobs    map[string]*blob     // by path (the direct path without its query)
	failPath map[string]string    // failure mode ("404", "410", "corrupt") by path
	failType map[string]string    // failure mode by mms type, for every blob of the type
	counter  uint64
}

type blob struct {
	data    []byte
	mmsType string
	path    string // /v/<type>/<name>.enc
	direct  string // path with its signed query
	created time.Time
}

// BlobInfo describes a stored blob in the control API.
type BlobInfo struct {
	DirectPath string `json:"directPath"`
	MMSType    string `json:"mmsType"`
	Size       int    `json:"size"`
	Fail       string `json:"fail,omitempty"`
}

func (m *mediaHost) initLocked() {
	if m.secret == nil {
		m.secret = make([]byte, 32)
		_, _ = rand.Read(m.secret)
		m.auths = make(map[string]time.Time)
		m.blobs = make(map[string]*blob)
		m.failPath = make(map[string]string)
		m.failType = make(map[string]string)
	}
}

// newAuth issues an upload auth token.
func (m *mediaHost) newAuth() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	auth := base64.RawURLEncoding.EncodeToString(b)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.initLocked()
	now := time.Now()
	for a, exp := range m.auths {
		if now.After(exp) {
			delete(m.auths, a)
		}
	}
	m.auths[auth] = now.Add(mediaAuthTTL * time.Second)
	return auth
}

func (m *mediaHost) authValid(auth string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.auths[auth]
	return ok && time.Now().Before(exp)
}

// oh is the signature of a direct path's expiry, as the CDN's oh/oe pair.
func (m *mediaHost) ohLocked(path, oe string) string {
	mac := hmac.New(sha256.New, m.secret)
	mac.Write([]byte(path + "\x00" + oe))
	return "01_" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:24])
}

// put stores an encrypted blob and returns its direct path.
func (m *mediaHost) put(mmsType string, data []byte) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.initLocked()
	m.counter++
	var r [16]byte
	_, _ = rand.Read(r[:])
	name := fmt.Sprintf("%d_%d_%d_n.enc", 100000000+m.counter, binary.BigEndian.Uint64(r[:8])%1e16, binary.BigEndian.Uint64(r[8:])%1e19)
	seg, ok := mmsPathType[mmsType]
	if !ok {
		seg = "t62.7118-24"
	}
	path := "/v/" + seg + "/" + name
	oe := strings.ToUpper(strconv.FormatInt(time.Now().Add(mediaURLLifetime).Unix(), 16))
	direct := path + "?ccb=11-4&oh=" + m.ohLocked(path, oe) + "&oe=" + oe + "&_nc_sid=5e03e0"
	m.blobs[path] = &blob{data: data, mmsType: mmsType, path: path, direct: direct, created: time.Now()}
	return direct
}

// fetch is a download of a direct path: the blob's bytes as served (with
// any injected failure), or an HTTP status.
func (m *mediaHost) fetch(path, oh, oe string) ([]byte, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.initLocked()
	b := m.blobs[path]
	if b == nil {
		return nil, http.StatusNotFound
	}
	if !hmac.Equal([]byte(oh), []byte(m.ohLocked(path, oe))) {
		return nil, http.StatusForbidden
	}
	if exp, err := strconv.ParseInt(oe, 16, 64); err != nil || time.Now().Unix() > exp {
		return nil, http.StatusGone
	}
	mode := m.failPath[path]
	if mode == "" {
		mode = m.failType[b.mmsType]
	}
	switch mode {
	case BlobOK:
		return b.data, http.StatusOK
	case BlobCorrupt:
		bad := append([]byte{0x55}, b.data...) // a byte more: every check fails
		if len(b.data) > 0 {
			bad = append([]byte(nil), b.data...)
			bad[len(bad)/2] ^= 0x55
		}
		return bad, http.StatusOK
	default:
		code, _ := strconv.Atoi(mode)
		return nil, code
	}
}

// fetchDirect downloads by a message's direct path, as a phone does.
func (m *mediaHost) fetchDirect(direct string) ([]byte, error) {
	path, query, _ := strings.Cut(direct, "?")
	q := parseQueryLoose(query)
	data, status := m.fetch(path, q["oh"], q["oe"])
	if status != http.StatusOK {
		return nil, fmt.Errorf("media download of %s failed with status %d", path, status)
	}
	return data, nil
}

// parseQueryLoose reads key=value pairs without unescaping: oh values are
// base64url and whatsmeow appends its own parameters after the direct path.
func parseQueryLoose(query string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if _, seen := out[k]; !seen {
			out[k] = v
		}
	}
	return out
}

// setFailure makes a blob (by direct path or path) or every blob of an mms
// type fail with mode ("404", "403", "410", "500", "corrupt"; "" heals).
func (m *mediaHost) setFailure(direct, mmsType, mode string) error {
	switch mode {
	case BlobOK, BlobCorrupt, "403", "404", "410", "500":
	default:
		return fmt.Errorf("mode %q is none of \"\", \"corrupt\", \"403\", \"404\", \"410\", \"500\"", mode)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.initLocked()
	set := func(table map[string]string, key string) {
		if mode == BlobOK {
			delete(table, key)
		} else {
			table[key] = mode
		}
	}
	switch {
	case direct != "":
		path, _, _ := strings.Cut(direct, "?")
		if m.blobs[path] == nil {
			return fmt.Errorf("no blob at %s", path)
		}
		set(m.failPath, path)
	case mmsType != "":
		if _, ok := mmsPathType[mmsType]; !ok {
			return fmt.Errorf("unknown mms type %q", mmsType)
		}
		set(m.failType, mmsType)
	default:
		return fmt.Errorf("name a directPath or an mmsType")
	}
	return nil
}

func (m *mediaHost) list() []BlobInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []BlobInfo{}
	for _, b := range m.blobs {
		fail := m.failPath[b.path]
		if fail == "" {
			fail = m.failType[b.mmsType]
		}
		out = append(out, BlobInfo{DirectPath: b.direct, MMSType: b.mmsType, Size: len(b.data), Fail: fail})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DirectPath < out[j].DirectPath })
	return out
}

// mediaHosts are the host names media_conn announces.
func (s *Server) mediaHosts() []string {
	if len(s.cfg.MediaHosts) > 0 {
		return s.cfg.MediaHosts
	}
	return DefaultMediaHosts
}

// handleMediaConn answers <iq xmlns="w:m" type="set"><media_conn/>: an
// upload auth token and the hosts (whatsmeow mediaconn.go reads auth, ttl,
// auth_ttl, max_buckets and each <host hostname>; Baileys also reads
// maxContentLengthBytes).
func (s *Server) handleMediaConn(node *waBinary.Node) waBinary.Node {
	var hosts []waBinary.Node
	for _, h := range s.mediaHosts() {
		hosts = append(hosts, waBinary.Node{Tag: "host", Attrs: waBinary.Attrs{
			"hostname": h, "maxContentLengthBytes": strconv.Itoa(mediaMaxBlobSize),
		}})
	}
	return iqResult(node, waBinary.Node{Tag: "media_conn", Attrs: waBinary.Attrs{
		"auth": s.media.newAuth(), "ttl": strconv.Itoa(mediaConnTTL), "auth_ttl": strconv.Itoa(mediaAuthTTL),
		"max_buckets": strconv.Itoa(mediaMaxBuckets),
	}, Content: hosts})
}

// mediaRoutes adds the media host's HTTP endpoints to the mux.
func (s *Server) mediaRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /mms/{type}/{token}", s.serveUpload)
	mux.HandleFunc("GET /v/", s.serveDownload)
	mux.HandleFunc("OPTIONS /mms/", s.serveMediaPreflight)
	mux.HandleFunc("OPTIONS /v/", s.serveMediaPreflight)
	mux.HandleFunc(mediaProxyPrefix, s.serveMediaProxyPath)
}

// mediaCORS adds CORS headers when the MediaCORS switch is on.
func (s *Server) mediaCORS(w http.ResponseWriter, r *http.Request) {
	if !s.Settings().MediaCORS {
		return
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = "*"
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Origin, Referer")
	h.Set("Access-Control-Max-Age", "600")
}

func (s *Server) serveMediaPreflight(w http.ResponseWriter, r *http.Request) {
	s.mediaCORS(w, r)
	if !s.Settings().MediaCORS {
		http.Error(w, "no CORS on this host", http.StatusForbidden)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type uploadResult struct {
	URL        string `json:"url"`
	DirectPath string `json:"direct_path"`
}

// serveUpload takes an encrypted blob: the auth token from media_conn, and
// token = base64url(SHA-256 of the body) both in the query and the path.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	s.mediaCORS(w, r)
	mmsType, token := r.PathValue("type"), r.PathValue("token")
	q := r.URL.Query()
	switch {
	case !s.media.authValid(q.Get("auth")):
		http.Error(w, "bad or expired auth", http.StatusUnauthorized)
		return
	case q.Get("token") != token:
		http.Error(w, "token in path and query differ", http.StatusBadRequest)
		return
	}
	if _, ok := mmsPathType[mmsType]; !ok {
		http.Error(w, "unknown media type "+mmsType, http.StatusBadRequest)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, mediaMaxBlobSize+1))
	if err != nil {
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(data) == 0 {
		http.Error(w, "empty upload", http.StatusBadRequest)
		return
	}
	if len(data) > mediaMaxBlobSize {
		http.Error(w, "blob larger than maxContentLengthBytes", http.StatusRequestEntityTooLarge)
		return
	}
	if sum := sha256.Sum256(data); !uploadTokenMatches(token, sum[:]) {
		http.Error(w, "body does not match its token (SHA-256)", http.StatusBadRequest)
		return
	}
	direct := s.media.put(mmsType, data)
	s.log.Infof("media: stored %d bytes of %s at %s", len(data), mmsType, direct)
	writeJSON(w, http.StatusOK, uploadResult{URL: "https://" + s.mediaHosts()[0] + direct + "&mms3=true", DirectPath: direct})
}

// uploadTokenMatches says whether an upload token is base64url of sum,
// padded or not: whatsmeow sends it padded (upload.go base64.URLEncoding),
// Baileys 7 without the padding (Utils/messages-media.js
// encodeBase64EncodedStringForUpload strips trailing '='), and both upload
// to the real service.
func uploadTokenMatches(token string, sum []byte) bool {
	got, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(token, "="))
	return err == nil && bytes.Equal(got, sum)
}

// serveDownload serves a blob by its direct path (oh/oe checked). The
// extra parameters whatsmeow appends (hash, mms-type, __wa-mms) are
// ignored, as a hash that differs only makes the client's checks fail.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	s.mediaCORS(w, r)
	q := parseQueryLoose(r.URL.RawQuery)
	data, status := s.media.fetch(r.URL.Path, q["oh"], q["oe"])
	if status != http.StatusOK {
		http.Error(w, http.StatusText(status), status)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// Blobs lists what the media host stores.
func (s *Server) Blobs() []BlobInfo { return s.media.list() }

// FailBlob makes a blob, or every blob of an mms type (e.g. "md-msg-hist",
// "md-app-state", "image"), fail: mode "404", "403", "410", "500" (that
// status), "corrupt" (a flipped byte) or "" (served again).
func (s *Server) FailBlob(directPath, mmsType, mode string) error {
	return s.media.setFailure(directPath, mmsType, mode)
}

// storeBlob puts a blob fakewa itself made (a phone's upload).
func (s *Server) storeBlob(mmsType string, data []byte) string {
	return s.media.put(mmsType, data)
}
