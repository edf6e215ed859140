package sessiond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// The HTTP API (docs/FLEET.md has it in full). Under
// /v1/sessions/{session}/: lease, lease/renew, lease/release; snapshot
// (the remote strategy); keys/get, keys/set, keys/clear and creds (the
// custom strategy). Writes carry the lease's fence in FenceHeader. Errors
// are JSON bodies {code, message[, holder, fence, expiresAt]}.

// FenceHeader carries the fence a write is made under.
const FenceHeader = "Wasmeow-Fence"

// SealedPrefix starts every value an e2e tenant accepts: the page's
// envelope (magic, IV, AES-GCM ciphertext; web/wasmeow.js).
const SealedPrefix = "wmE1"

// sessionPattern is wasmeow's clientId pattern (core.ClientIDPattern).
var sessionPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Handler is the HTTP API.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.pool.Ping(r.Context()); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, map[string]any{"ok": true, "schema": SchemaVersion})
	})
	if s.MetricsToken != "" {
		mux.HandleFunc("GET /metrics", s.getMetrics)
	}
	mux.HandleFunc("/v1/sessions/{session}", s.route)
	mux.HandleFunc("/v1/sessions/{session}/{rest...}", s.route)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, apiErr(http.StatusNotFound, CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
	return s.cors(mux)
}

func (s *Service) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := s.AllowOrigin; o != "" && r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Vary", "Origin")
			if r.Method == http.MethodOptions {
				w.Header().Set("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE")
				w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, "+FenceHeader)
				w.Header().Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// request is one authenticated call on one session.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	tenant  Tenant
	session string
}

type route struct {
	method string
	op     string // its name in the metrics
	handle func(*Service, *request) error
}

var routes = map[string][]route{
	"":              {{"GET", "info", (*Service).getInfo}, {"DELETE", "delete", (*Service).deleteSession}},
	"lease":         {{"POST", "lease.acquire", (*Service).postLease}, {"GET", "lease.get", (*Service).getLease}},
	"lease/renew":   {{"POST", "lease.renew", (*Service).postRenew}},
	"lease/release": {{"POST", "lease.release", (*Service).postRelease}},
	"snapshot":      {{"GET", "snapshot.get", (*Service).getSnapshot}, {"PUT", "snapshot.put", (*Service).putSnapshot}},
	"keys/get":      {{"POST", "keys.get", (*Service).postKeysGet}},
	"keys/set":      {{"POST", "keys.set", (*Service).postKeysSet}},
	"keys/clear":    {{"POST", "keys.clear", (*Service).postKeysClear}},
	"creds":         {{"GET", "creds.get", (*Service).getCreds}, {"PUT", "creds.put", (*Service).putCreds}, {"DELETE", "creds.delete", (*Service).deleteCreds}},
}

func (s *Service) route(w http.ResponseWriter, r *http.Request) {
	rs, ok := routes[r.PathValue("rest")]
	if !ok {
		writeError(w, apiErr(http.StatusNotFound, CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
		return
	}
	var handle func(*Service, *request) error
	var op string
	for _, rt := range rs {
		if rt.method == r.Method {
			handle, op = rt.handle, rt.op
		}
	}
	if handle == nil {
		writeError(w, apiErr(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path))
		return
	}
	session := r.PathValue("session")
	if !sessionPattern.MatchString(session) {
		writeError(w, badRequest("session name %q: use 1 to 64 letters, digits, _ or - (a wasmeow clientId)", session))
		return
	}
	start := time.Now()
	t, err := s.authenticate(r.Context(), r)
	if err == nil {
		err = handle(s, &request{w: w, r: r, tenant: t, session: session})
	}
	code := ""
	if err != nil {
		e := asAPIError(err)
		code = e.Code
		writeError(w, e)
	}
	s.metrics.Observe(op, r.Proto, time.Since(start), code)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// body reads the request body within MaxBody.
func (s *Service) body(q *request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, s.Limits.MaxBody))
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return nil, tooLarge("the body is over %d bytes", s.Limits.MaxBody)
	}
	if err != nil {
		return nil, badRequest("reading the body: %v", err)
	}
	return b, nil
}

// decode reads a JSON body into v, refusing unknown fields.
func (s *Service) decode(q *request, v any) error {
	b, err := s.body(q)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return badRequest("the body is not the expected JSON: %v", err)
	}
	return nil
}

// fence reads FenceHeader.
func fence(q *request) (int64, error) {
	h := q.r.Header.Get(FenceHeader)
	f, err := strconv.ParseInt(h, 10, 64)
	if h == "" || err != nil || f <= 0 {
		return 0, badRequest("a write needs the lease's fence in the %s header (got %q): acquire the lease first", FenceHeader, h)
	}
	return f, nil
}

// sealed refuses, for an e2e tenant, a value the page did not seal.
func sealed(t Tenant, what string, v []byte) error {
	if t.Mode == ModeE2E && (len(v) < len(SealedPrefix)+12+16 || string(v[:len(SealedPrefix)]) != SealedPrefix) {
		return apiErr(http.StatusUnprocessableEntity, CodePlaintextRefused, "tenant %q is end-to-end encrypted: %s must be sealed by the page (the encryption option of httpKeyStore/httpRemoteStore)", t.Name, what)
	}
	return nil
}

// ---- lease ----

type leaseBody struct {
	Holder   string `json:"holder"`
	TTLMs    int64  `json:"ttlMs"`
	Takeover bool   `json:"takeover"`
	Fence    int64  `json:"fence"`
}

func (s *Service) leaseArgs(q *request, needTTL bool) (leaseBody, time.Duration, error) {
	var b leaseBody
	if err := s.decode(q, &b); err != nil {
		return b, 0, err
	}
	if b.Holder == "" || len(b.Holder) > 200 || !utf8.ValidString(b.Holder) {
		return b, 0, badRequest("holder must be a name of 1 to 200 bytes of UTF-8 (who holds the lease, shown to the others)")
	}
	ttl := time.Duration(b.TTLMs) * time.Millisecond
	if needTTL && (ttl < s.Limits.MinTTL || ttl > s.Limits.MaxTTL) {
		return b, 0, badRequest("ttlMs must be from %d to %d, got %d", s.Limits.MinTTL.Milliseconds(), s.Limits.MaxTTL.Milliseconds(), b.TTLMs)
	}
	return b, ttl, nil
}

func (s *Service) postLease(q *request) error {
	b, ttl, err := s.leaseArgs(q, true)
	if err != nil {
		return err
	}
	l, err := s.Acquire(q.r.Context(), q.tenant.Name, q.session, b.Holder, ttl, b.Takeover)
	if err != nil {
		return err
	}
	writeJSON(q.w, l)
	return nil
}

func (s *Service) postRenew(q *request) error {
	b, ttl, err := s.leaseArgs(q, true)
	if err != nil {
		return err
	}
	l, err := s.Renew(q.r.Context(), q.tenant.Name, q.session, b.Holder, b.Fence, ttl)
	if err != nil {
		return err
	}
	writeJSON(q.w, l)
	return nil
}

func (s *Service) postRelease(q *request) error {
	b, _, err := s.leaseArgs(q, false)
	if err != nil {
		return err
	}
	if err := s.Release(q.r.Context(), q.tenant.Name, q.session, b.Holder, b.Fence); err != nil {
		return err
	}
	return noContent(q.w)
}

func (s *Service) getLease(q *request) error {
	l, err := s.LeaseInfo(q.r.Context(), q.tenant.Name, q.session)
	if err != nil {
		return err
	}
	writeJSON(q.w, l)
	return nil
}

// ---- the session, its snapshot (remote strategy) ----

func (s *Service) getInfo(q *request) error {
	in, err := s.Info(q.r.Context(), q.tenant.Name, q.session)
	if err != nil {
		return err
	}
	writeJSON(q.w, in)
	return nil
}

func (s *Service) deleteSession(q *request) error { return s.fencedOp(q, s.DeleteSession) }

func (s *Service) getSnapshot(q *request) error { return writeBlob(q, s.Snapshot) }

func (s *Service) putSnapshot(q *request) error { return s.putBlob(q, "the snapshot", s.SaveSnapshot) }

// fencedOp runs a body-less write under the request's fence.
func (s *Service) fencedOp(q *request, op func(ctx context.Context, tenant, session string, fence int64) error) error {
	f, err := fence(q)
	if err != nil {
		return err
	}
	if err := op(q.r.Context(), q.tenant.Name, q.session, f); err != nil {
		return err
	}
	return noContent(q.w)
}

// writeBlob answers a stored blob (a snapshot, creds) as bytes; with
// ?optional, a missing one is 204 No Content instead of 404.
func writeBlob(q *request, load func(ctx context.Context, tenant, session string) ([]byte, error)) error {
	b, err := load(q.r.Context(), q.tenant.Name, q.session)
	var api *APIError
	if errors.As(err, &api) && api.Code == CodeNotFound && q.r.URL.Query().Has("optional") {
		// ?optional: absence is an answer, not an error (a browser logs
		// every 404 on its console).
		q.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/octet-stream")
	q.w.Header().Set("Cache-Control", "no-store")
	_, _ = q.w.Write(b)
	return nil
}

// putBlob stores the request body (a snapshot, creds) under its fence.
func (s *Service) putBlob(q *request, what string, save func(ctx context.Context, tenant, session string, fence int64, b []byte) error) error {
	f, err := fence(q)
	if err != nil {
		return err
	}
	b, err := s.body(q)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return badRequest("%s is empty", what)
	}
	if err := sealed(q.tenant, what, b); err != nil {
		return err
	}
	if err := save(q.r.Context(), q.tenant.Name, q.session, f, b); err != nil {
		return err
	}
	return noContent(q.w)
}

// ---- the key store and creds (custom strategy) ----

type keysGetBody struct {
	Type string   `json:"type"`
	IDs  []string `json:"ids"`
}

type keysSetBody struct {
	// null values delete: json decodes them to nil, "" to an empty slice.
	Data map[string]map[string][]byte `json:"data"`
}

func (s *Service) checkName(what, v string, limit int) error {
	if v == "" || len(v) > limit || !utf8.ValidString(v) {
		return badRequest("a key %s must be 1 to %d bytes of UTF-8, got %d bytes", what, limit, len(v))
	}
	return nil
}

func (s *Service) postKeysGet(q *request) error {
	var b keysGetBody
	if err := s.decode(q, &b); err != nil {
		return err
	}
	if err := s.checkName("type", b.Type, s.Limits.MaxTypeLen); err != nil {
		return err
	}
	if len(b.IDs) > s.Limits.MaxBatch {
		return tooLarge("%d ids in one get, over the limit of %d", len(b.IDs), s.Limits.MaxBatch)
	}
	for _, id := range b.IDs {
		if err := s.checkName("id", id, s.Limits.MaxIDLen); err != nil {
			return err
		}
	}
	values, err := s.GetKeys(q.r.Context(), q.tenant.Name, q.session, b.Type, b.IDs)
	if err != nil {
		return err
	}
	writeJSON(q.w, map[string]any{"values": values})
	return nil
}

func (s *Service) postKeysSet(q *request) error {
	f, err := fence(q)
	if err != nil {
		return err
	}
	var b keysSetBody
	if err := s.decode(q, &b); err != nil {
		return err
	}
	n := 0
	for typ, m := range b.Data {
		if err := s.checkName("type", typ, s.Limits.MaxTypeLen); err != nil {
			return err
		}
		for id, v := range m {
			if n++; n > s.Limits.MaxBatch {
				return tooLarge("over %d entries in one set", s.Limits.MaxBatch)
			}
			if err := s.checkName("id", id, s.Limits.MaxIDLen); err != nil {
				return err
			}
			if len(v) > s.Limits.MaxValue {
				return tooLarge("the value of %s/%s is %d bytes, over the limit of %d", typ, id, len(v), s.Limits.MaxValue)
			}
			if v != nil {
				if err := sealed(q.tenant, fmt.Sprintf("the value of %s/%s", typ, id), v); err != nil {
					return err
				}
			}
		}
	}
	if err := s.SetKeys(q.r.Context(), q.tenant.Name, q.session, f, b.Data); err != nil {
		return err
	}
	return noContent(q.w)
}

func (s *Service) postKeysClear(q *request) error { return s.fencedOp(q, s.ClearKeys) }

func (s *Service) getCreds(q *request) error { return writeBlob(q, s.Creds) }

func (s *Service) putCreds(q *request) error { return s.putBlob(q, "the creds", s.SaveCreds) }

func (s *Service) deleteCreds(q *request) error {
	return s.fencedOp(q, func(ctx context.Context, tenant, session string, fence int64) error {
		return s.SaveCreds(ctx, tenant, session, fence, nil)
	})
}
