//go:build !js

package fakewa

import "net/http"

// appStateAPIRoutes adds the control API of the phones' app state.
func (s *Server) appStateAPIRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/accounts/{phone}/contacts", s.apiAddContacts)
	mux.HandleFunc("POST /api/accounts/{phone}/chat-state", s.apiChatState)
	mux.HandleFunc("GET /api/accounts/{phone}/app-state", s.apiAppStateVersions)
}

// apiAddContacts: {"contacts": [{"phone", "firstName", "fullName"}]} -> {}.
func (s *Server) apiAddContacts(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	var req struct {
		Contacts []Contact `json:"contacts"`
	}
	if err := readJSON(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if err := s.AddContacts(r.PathValue("phone"), req.Contacts); err != nil {
		writeErr(w, http.StatusConflict, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// apiChatState: {"chat", "muted", "pinned", "archived"} -> {}.
func (s *Server) apiChatState(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	var req struct {
		Chat string `json:"chat"`
		ChatState
	}
	if err := readJSON(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if err := s.SetChatState(r.PathValue("phone"), req.Chat, req.ChatState); err != nil {
		writeErr(w, http.StatusConflict, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// apiAppStateVersions: {"critical_block": N, ...}, each collection's version.
func (s *Server) apiAppStateVersions(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	versions, err := s.AppStateVersions(r.PathValue("phone"))
	if err != nil {
		writeErr(w, http.StatusNotFound, err)
		return
	}
	writeJSON(w, http.StatusOK, versions)
}
