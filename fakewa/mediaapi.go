//go:build !js

package fakewa

import (
	"net/http"
)

// mediaAPIRoutes adds the control API of media: phones sending media, the
// blob list, blob fault injection, and upload auths.
func (s *Server) mediaAPIRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/accounts/{phone}/send-media", s.apiSendMedia)
	mux.HandleFunc("GET /api/media", func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		writeJSON(w, http.StatusOK, s.Blobs())
	})
	mux.HandleFunc("POST /api/media/fail", s.apiFailBlob)
	// An upload auth as a media_conn answer carries, for tests that upload
	// without a client's socket (e.g. a page through the relay).
	mux.HandleFunc("POST /api/media/auth", func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		writeJSON(w, http.StatusOK, map[string]string{"auth": s.media.newAuth(), "host": s.mediaHosts()[0]})
	})
}

// apiSendMedia: {"to", "type", "data" (base64), "mimetype", "caption",
// "fileName", "width", "height", "seconds", "ptt"} -> {"id", "directPath"}.
func (s *Server) apiSendMedia(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	var req struct {
		To string `json:"to"`
		MediaSpec
	}
	if err := readJSONLimit(r, &req, mediaMaxBlobSize*4/3+(1<<20)); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	id, direct, err := s.SendMedia(r.PathValue("phone"), req.To, req.MediaSpec)
	if err != nil {
		writeErr(w, http.StatusConflict, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id, "directPath": direct})
}

// apiFailBlob: {"directPath"} or {"mmsType"}, and "mode" ("404", "403",
// "410", "500", "corrupt", or "" to heal) -> {}.
func (s *Server) apiFailBlob(w http.ResponseWriter, r *http.Request) {
	defer s.recoverAPI(w, r)
	var req struct {
		DirectPath string `json:"directPath"`
		MMSType    string `json:"mmsType"`
		Mode       string `json:"mode"`
	}
	if err := readJSON(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if err := s.FailBlob(req.DirectPath, req.MMSType, req.Mode); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
