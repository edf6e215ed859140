//go:build !js

package fakewa

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"go.mau.fi/whatsmeow/types"
)

// routes builds the websocket endpoint and the JSON control API.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws/chat", s.serveWebsocket)
	mux.HandleFunc("GET /api/info", s.apiInfo)
	mux.HandleFunc("POST /api/accounts", s.apiCreateAccount)
	mux.HandleFunc("GET /api/accounts", s.apiListAccounts)
	mux.HandleFunc("POST /api/accounts/{phone}/scan", s.apiScan)
	mux.HandleFunc("POST /api/accounts/{phone}/link-code", s.apiLinkCode)
	mux.HandleFunc("POST /api/accounts/{phone}/send", s.apiSend)
	mux.HandleFunc("GET /api/accounts/{phone}/messages", s.apiMessages)
	mux.HandleFunc("POST /api/accounts/{phone}/tokens", s.apiIssueToken)
	mux.HandleFunc("GET /api/accounts/{phone}/tokens", s.apiTokens)
	mux.HandleFunc("POST /api/devices/{jid}/logout", s.apiLogout)
	mux.HandleFunc("POST /api/devices/{jid}/cut", s.cutAPI(s.cutDevice))
	mux.HandleFunc("GET /api/connections", s.apiConnections)
	mux.HandleFunc("POST /api/connections/{id}/cut", s.cutAPI(s.cutConnection))
	mux.HandleFunc("POST /api/faults/lose-pair-confirmation", func(w http.ResponseWriter, r *http.Request) {
		s.LoseNextPairConfirmation()
		writeJSON(w, http.StatusOK, struct{}{})
	})
	mux.HandleFunc("POST /api/faults/fail-prekey-fetch", s.apiFailPreKeyFetch)
	s.groupRoutes(mux)   // groupapi.go
	s.pictureRoutes(mux) // pictures.go
	mux.HandleFunc("GET /api/settings", s.apiSettings)
	mux.HandleFunc("POST /api/settings", s.apiSettings)
	s.mediaRoutes(mux)
	s.mediaAPIRoutes(mux)
	s.appStateAPIRoutes(mux)
	s.phoneSendRoutes(mux)    // phonesend.go
	s.phoneReceiptRoutes(mux) // phonereceipts.go
	s.phonePollRoutes(mux)    // phonepolls.go
	s.historyFaultRoutes(mux) // historyretry.go
	mux.HandleFunc("OPTIONS /api/", func(w http.ResponseWriter, r *http.Request) {
		// CORS preflight: browser tests call the API from their page's origin.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	// Browser tests run on another origin.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, apiError{Error: err.Error()})
}

// readJSON decodes a request body; an empty body leaves v as is.
func readJSON(r *http.Request, v any) error { return readJSONLimit(r, v, 1<<20) }

// readJSONLimit is readJSON for bodies of up to limit bytes.
func readJSONLimit(r *http.Request, v any, limit int64) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit))
	if err != nil {
		return fmt.Errorf("reading request body: %w", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err = json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("request body is not the expected JSON: %w", err)
	}
	return nil
}

// recoverAPI turns a panic in an API handler into a 500.
func (s *Server) recoverAPI(w http.ResponseWriter, r *http.Request) {
	if p := recover(); p != nil {
		s.log.Errorf("panic in %s %s: %v", r.Method, r.URL.Path, p)
		writeErr(w, http.StatusInternalServerError, fmt.Errorf("internal error: %v", p))
	}
}

func (s *Server) apiInfo(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	root := s.RootPublicKey()
	writeJSON(w, http.StatusOK, map[string]string{
		"wsURL":   scheme + "://" + r.Host + "/ws/chat",
		"rootKey": base64.StdEncoding.EncodeToString(root[:]),
	})
}

func (s *Server) apiCreateAccount(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	var req struct {
		Phone    string `json:"phone"`
		PushName string `json:"pushName"`
	}
	if err := readJSON(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	info, err := s.CreateAccount(req.Phone, req.PushName)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	info.Devices = nil
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) apiListAccounts(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	list := s.Accounts()
	for i := range list {
		if list[i].Devices == nil {
			list[i].Devices = []DeviceInfo{}
		}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiScan(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	var req struct {
		QR string `json:"qr"`
	}
	if err := readJSON(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	jid, err := s.ScanQR(r.Context(), r.PathValue("phone"), req.QR)
	if err != nil {
		writeErr(w, http.StatusConflict, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"device": jid.String()})
}

func parseDeviceJID(raw string) (types.JID, error) {
	jid, err := types.ParseJID(raw)
	if err != nil {
		return jid, fmt.Errorf("bad device JID %q: %w", raw, err)
	}
	return jid, nil
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	jid, err := parseDeviceJID(r.PathValue("jid"))
	if err == nil {
		err = s.Logout(jid)
	}
	if err != nil {
		writeErr(w, http.StatusNotFound, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// cutAPI serves a cut request ({"afterFrames"}) with cut, which names the
// socket from the path; an error there is a 404.
func (s *Server) cutAPI(cut func(r *http.Request, afterFrames int) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		var req struct {
			AfterFrames int `json:"afterFrames"`
		}
		if err := readJSON(r, &req); err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		if err := cut(r, req.AfterFrames); err != nil {
			writeErr(w, http.StatusNotFound, err)
			return
		}
		writeJSON(w, http.StatusOK, struct{}{})
	}
}

func (s *Server) cutDevice(r *http.Request, afterFrames int) error {
	jid, err := parseDeviceJID(r.PathValue("jid"))
	if err != nil {
		return err
	}
	return s.CutSocket(jid, afterFrames)
}

// cutConnection cuts a live socket by id, or with id "next" arms the cut for
// the next socket to open (before it pairs or logs in).
func (s *Server) cutConnection(r *http.Request, afterFrames int) error {
	if r.PathValue("id") == "next" {
		s.CutNextConnection(afterFrames)
		return nil
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		return fmt.Errorf("connection id %q is neither a number nor \"next\"", r.PathValue("id"))
	}
	return s.CutConnection(id, afterFrames)
}

func (s *Server) apiConnections(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	writeJSON(w, http.StatusOK, s.Connections())
}

// apiSettings shows (GET) or changes (POST, a SettingsUpdate) the behaviour switches.
func (s *Server) apiSettings(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	set := s.Settings()
	if r.Method == http.MethodPost {
		var u SettingsUpdate
		err := readJSON(r, &u)
		if err == nil {
			set, err = s.UpdateSettings(u)
		}
		if err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, settingsJSON{MinVersion: set.MinVersion.String(), Settings: set})
}

func (s *Server) apiFailPreKeyFetch(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	req := struct {
		Count int `json:"count"`
	}{Count: 1}
	if err := readJSON(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if req.Count < 1 || req.Count > 1000 {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("count must be 1 to 1000, not %d", req.Count))
		return
	}
	s.FailNextPreKeyFetches(req.Count)
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) apiLinkCode(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	var req struct {
		Code string `json:"code"`
	}
	if err := readJSON(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	jid, err := s.EnterPairingCode(r.Context(), r.PathValue("phone"), req.Code)
	if err != nil {
		writeErr(w, http.StatusConflict, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"device": jid.String()})
}

func (s *Server) apiSend(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	var req struct {
		To    string `json:"to"`
		Text  string `json:"text"`
		Count int    `json:"count"` // texts "<text> #1" … "#count" in one call (benchmarks); 0 is one text as given
	}
	if err := readJSON(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if req.Count < 0 || req.Count > maxSendCount {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("count must be 0 to %d, got %d", maxSendCount, req.Count))
		return
	}
	send := s.SendText
	if strings.HasSuffix(req.To, "@"+types.GroupServer) {
		send = s.SendGroupText // phonegroups.go
	}
	if req.Count == 0 {
		id, err := send(r.PathValue("phone"), req.To, req.Text)
		if err != nil {
			writeErr(w, http.StatusConflict, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": id})
		return
	}
	ids := make([]string, 0, req.Count)
	for i := 1; i <= req.Count; i++ {
		id, err := send(r.PathValue("phone"), req.To, fmt.Sprintf("%s #%d", req.Text, i))
		if err != nil {
			writeErr(w, http.StatusConflict, fmt.Errorf("text %d of %d: %w", i, req.Count, err))
			return
		}
		ids = append(ids, id)
	}
	writeJSON(w, http.StatusOK, map[string][]string{"ids": ids})
}

// maxSendCount bounds one send call's count.
const maxSendCount = 10000

// apiIssueToken has the account issue a privacy token: {"to", "notify"}.
func (s *Server) apiIssueToken(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	var req struct {
		To     string `json:"to"`
		Notify bool   `json:"notify"`
	}
	if err := readJSON(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if err := s.IssueToken(r.PathValue("phone"), req.To, req.Notify); err != nil {
		writeErr(w, http.StatusConflict, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// apiTokens lists the privacy tokens the account issued and holds.
func (s *Server) apiTokens(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	issued, held, err := s.Tokens(r.PathValue("phone"))
	if err != nil {
		writeErr(w, http.StatusNotFound, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"issued": issued, "held": held})
}

func (s *Server) apiMessages(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	msgs, err := s.Messages(r.PathValue("phone"))
	if err != nil {
		writeErr(w, http.StatusNotFound, err)
		return
	}
	writeJSON(w, http.StatusOK, msgs)
}
