//go:build !js

package fakewa

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// The phones read and play what they received, as a user opening a chat or a
// voice message does: one receipt per chat and author (whatsmeow receipt.go
// MarkRead: the first id, the others in <list><item id/>), routed as a
// companion's (receipts.go).
//
//	POST /api/accounts/{phone}/read {"ids": [...], "type": "read"|"played"|"read-self"|"played-self"} -> {"receipts": n}
//
// type defaults to read; the -self types are what a phone whose read
// receipts are off sends: only its own companions hear them.

// phoneReceiptTypes are the receipt types a phone's user causes.
var phoneReceiptTypes = map[string]bool{"read": true, "played": true, "read-self": true, "played-self": true}

// MarkRead has the account's phone send typ receipts for messages it
// received from others (ids as Messages lists them). It returns how many
// receipts left (one per chat and author).
func (s *Server) MarkRead(phone string, ids []string, typ string) (int, error) {
	if typ == "" {
		typ = "read"
	}
	if !phoneReceiptTypes[typ] {
		return 0, fmt.Errorf("receipt type %q: want read, played, read-self or played-self", typ)
	}
	if len(ids) == 0 {
		return 0, fmt.Errorf("no message ids")
	}
	a, err := s.lookupAccount(phone)
	if err != nil {
		return 0, err
	}
	type chatAuthor struct{ chat, author types.JID }
	var order []chatAuthor
	byChat := map[chatAuthor][]string{}
	p := a.phone
	p.mu.Lock()
	for _, id := range ids {
		m, ok := p.receivedFromOthersLocked(id)
		if !ok {
			p.mu.Unlock()
			return 0, fmt.Errorf("phone %s received no message %q from another user", a.Phone, id)
		}
		chat, _ := types.ParseJID(m.Chat)
		from, _ := types.ParseJID(m.From)
		k := chatAuthor{chat: chat, author: from.ToNonAD()}
		if _, seen := byChat[k]; !seen {
			order = append(order, k)
		}
		byChat[k] = append(byChat[k], id)
	}
	p.mu.Unlock()
	s.mu.Lock()
	self := a.devices[0]
	s.mu.Unlock()
	for _, k := range order {
		list := byChat[k]
		node := waBinary.Node{Tag: "receipt", Attrs: waBinary.Attrs{"id": list[0], "to": k.chat, "type": typ, "t": strconv.FormatInt(time.Now().Unix(), 10)}}
		if k.chat.Server == types.GroupServer {
			node.Attrs["participant"] = k.author
		}
		if len(list) > 1 {
			items := make([]waBinary.Node, 0, len(list)-1)
			for _, id := range list[1:] {
				items = append(items, waBinary.Node{Tag: "item", Attrs: waBinary.Attrs{"id": id}})
			}
			node.Content = []waBinary.Node{{Tag: "list", Content: items}}
		}
		s.routeReceipt(self, &node)
		s.log.Infof("phone %s: %s receipt for %d message(s) from %s in %s", a.Phone, typ, len(list), k.author, k.chat)
	}
	return len(order), nil
}

// receivedFromOthersLocked finds a message the phone received from another
// account (not a copy of its own companions' messages). Guarded by p.mu.
func (p *phone) receivedFromOthersLocked(id string) (ReceivedMessage, bool) {
	for i := len(p.received) - 1; i >= 0; i-- {
		m := p.received[i]
		if m.ID != id {
			continue
		}
		if from, err := types.ParseJID(m.From); err == nil && from.User != p.acct.Phone {
			return m, true
		}
	}
	return ReceivedMessage{}, false
}

func (s *Server) phoneReceiptRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/accounts/{phone}/read", func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		var req struct {
			IDs  []string `json:"ids"`
			Type string   `json:"type"`
		}
		if err := readJSON(r, &req); err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		n, err := s.MarkRead(r.PathValue("phone"), req.IDs, req.Type)
		if err != nil {
			writeErr(w, http.StatusConflict, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"receipts": n})
	})
}
