package sessiond

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// api is a test's HTTP client of one tenant.
type api struct {
	t     *testing.T
	base  string
	token string
}

func serveAPI(t *testing.T, s *Service, token string) *api {
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &api{t: t, base: srv.URL, token: token}
}

// reply is a response: status, body, and the decoded error if any.
type reply struct {
	status int
	body   []byte
	err    APIError
}

func (a *api) do(method, path string, fence int64, body any) reply {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if fence != 0 {
		req.Header.Set(FenceHeader, strconv.FormatInt(fence, 10))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	out := reply{status: res.StatusCode}
	out.body, _ = io.ReadAll(res.Body)
	if res.StatusCode >= 400 {
		if err := json.Unmarshal(out.body, &out.err); err != nil || out.err.Code == "" {
			a.t.Fatalf("%s %s: status %d without a coded JSON error: %q", method, path, res.StatusCode, out.body)
		}
	}
	return out
}

// want fails unless r has status (and, for errors, code).
func (r reply) want(t *testing.T, status int, code string) reply {
	t.Helper()
	if r.status != status || r.err.Code != code {
		t.Fatalf("got %d %q (%s), want %d %q", r.status, r.err.Code, r.body, status, code)
	}
	return r
}

func (a *api) lease(session, holder string, ttlMs int64, takeover bool) reply {
	return a.do("POST", "/v1/sessions/"+session+"/lease", 0, map[string]any{"holder": holder, "ttlMs": ttlMs, "takeover": takeover})
}

func (a *api) acquire(session, holder string, ttlMs int64) Lease {
	a.t.Helper()
	r := a.lease(session, holder, ttlMs, false).want(a.t, 200, "")
	var l Lease
	if err := json.Unmarshal(r.body, &l); err != nil {
		a.t.Fatal(err)
	}
	return l
}

func (a *api) set(session string, fence int64, data map[string]map[string][]byte) reply {
	return a.do("POST", "/v1/sessions/"+session+"/keys/set", fence, map[string]any{"data": data})
}

func (a *api) get(session, typ string, ids ...string) map[string][]byte {
	a.t.Helper()
	r := a.do("POST", "/v1/sessions/"+session+"/keys/get", 0, map[string]any{"type": typ, "ids": ids}).want(a.t, 200, "")
	var out struct{ Values map[string][]byte }
	if err := json.Unmarshal(r.body, &out); err != nil {
		a.t.Fatal(err)
	}
	return out.Values
}
