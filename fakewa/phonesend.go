package fakewa

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/encoding/protojson"
)

// The phones send any message type, not only texts: a reaction, an edit, a
// revoke, a location, a poll, a reply with its quote, mentions... given as
// the waE2E.Message in protobuf JSON (protojson, the field names of
// WAWebProtobufsE2E.proto in camelCase: {"reactionMessage": {...}}).
//
//	POST /api/accounts/{phone}/send-message {"to", "message"} -> {"id"}

// SendMessage is the account's phone sending msg to a user or, for a @g.us
// JID, to a group it is in. It returns the message id.
func (s *Server) SendMessage(phone, to string, msg *waE2E.Message) (string, error) {
	if msg == nil {
		return "", fmt.Errorf("no message")
	}
	withPollSecret(msg) // phonepolls.go
	if strings.HasSuffix(to, "@"+types.GroupServer) {
		return s.sendGroupFromPhone(phone, to, msg) // phonegroups.go
	}
	return s.sendFromPhone(phone, to, msg) // phone.go
}

// maxRawMessage bounds a message given to the control API.
const maxRawMessage = 1 << 20

func (s *Server) phoneSendRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/accounts/{phone}/send-message", func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		var req struct {
			To      string          `json:"to"`
			Message json.RawMessage `json:"message"`
		}
		if err := readJSONLimit(r, &req, maxRawMessage); err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		var msg waE2E.Message
		if err := protojson.Unmarshal(req.Message, &msg); err != nil {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("message is not a waE2E.Message in protobuf JSON: %w", err))
			return
		}
		id, err := s.SendMessage(r.PathValue("phone"), req.To, &msg)
		if err != nil {
			writeErr(w, http.StatusConflict, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": id})
	})
}

// rawJSON is msg as protobuf JSON, for what a phone reports it received.
func rawJSON(msg *waE2E.Message) json.RawMessage {
	b, err := protojson.Marshal(msg)
	if err != nil {
		return nil
	}
	return b
}

// chatProtocolMessage: a revoke or an edit is a protocol message of the
// chat (whatsmeow's BuildRevoke, BuildEdit), not companion traffic: the
// phone keeps it with the chat's messages.
func chatProtocolMessage(pm *waE2E.ProtocolMessage) bool {
	return pm.GetType() == waE2E.ProtocolMessage_REVOKE || pm.GetType() == waE2E.ProtocolMessage_MESSAGE_EDIT
}
