//go:build !js

package fakewa

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// Profile and group pictures. A client asks <iq xmlns="w:profile:picture"
// type="get" target=jid><picture type="image|preview" query="url" [id]/></iq>
// and gets <picture id url direct_path type/>, 404 when there is none
// (ErrProfilePictureNotSet), <picture status="304"/> when the id it holds is
// current; it sets one with type="set" and <picture type="image">JPEG</picture>
// (no content removes it; not a JPEG is 406, ErrInvalidImageFormat), answered
// <picture id/>, and those who see it get <notification type="picture"
// from=jid><set jid id author/></notification> or <delete jid author/>
// (whatsmeow user.go GetProfilePictureInfo, group.go SetGroupPhoto,
// notification.go handlePictureNotification). URLs are on pps.whatsapp.net
// under /v/t61.24694-24/ (as the links clients receive); fakewa serves that
// path on its own listener whatever the host, as it does media.

const (
	pictureHost     = "https://pps.whatsapp.net"
	picturePathBase = "/v/t61.24694-24/"
)

type profilePicture struct {
	id   string
	data []byte
}

// pictureState is every picture, by the owner's JID (account PN JID or
// group JID) and by id. Guarded by Server.mu; the zero value is ready.
type pictureState struct {
	byOwner map[string]*profilePicture
	byID    map[string]*profilePicture
	lastID  int64
}

// pictureOwnerLocked resolves a picture target to the key of its owner and
// the account (nil for a group) and group (nil for a user) it names. A group
// the asker is not in is 401.
func (s *Server) pictureOwnerLocked(asker *account, target types.JID) (string, *account, *group, error) {
	if target.Server == types.GroupServer {
		g, err := s.groupLocked(target)
		if err != nil {
			return "", nil, nil, err
		}
		if g.member(asker) == nil {
			return "", nil, nil, errNotGroupAdmin // 401 not-authorized
		}
		return g.JID.String(), nil, g, nil
	}
	a := s.userAccountLocked(target.ToNonAD())
	if a == nil {
		return "", nil, nil, errGroupNotFound // 404 item-not-found
	}
	return a.JID.String(), a, nil, nil
}

// handleProfilePicture answers w:profile:picture get and set.
func (s *Server) handleProfilePicture(d *device, node *waBinary.Node) (waBinary.Node, func()) {
	typ, _ := node.Attrs["type"].(string)
	target, ok := node.Attrs["target"].(types.JID)
	if !ok && typ == "set" {
		target, ok = d.acct.JID, true // one's own picture
	}
	pic := node.GetChildByTag("picture")
	if !ok || (typ == "get" && pic.Tag != "picture") {
		return iqError(node, 400, "bad-request"), nil
	}
	if typ == "set" {
		data, _ := pic.Content.([]byte)
		id, notify, err := s.setPicture(d.acct, target, data)
		if err != nil {
			f := failureOf(err)
			return iqError(node, f.code, f.text), nil
		}
		if data == nil {
			return iqResult(node), notify
		}
		return iqResult(node, waBinary.Node{Tag: "picture", Attrs: waBinary.Attrs{"id": id}}), notify
	}
	s.mu.Lock()
	key, _, _, err := s.pictureOwnerLocked(d.acct, target)
	p := s.pictures.byOwner[key]
	s.mu.Unlock()
	if err == nil && p == nil {
		err = errGroupNotFound
	}
	if err != nil {
		f := failureOf(err)
		return iqError(node, f.code, f.text), nil
	}
	if have, _ := pic.Attrs["id"].(string); have == p.id {
		return iqResult(node, waBinary.Node{Tag: "picture", Attrs: waBinary.Attrs{"status": "304"}}), nil
	}
	kind, _ := pic.Attrs["type"].(string)
	if kind != "preview" {
		kind = "image"
	}
	direct := picturePathBase + p.id + "_" + kind + ".jpg"
	return iqResult(node, waBinary.Node{Tag: "picture", Attrs: waBinary.Attrs{
		"id": p.id, "type": kind, "direct_path": direct, "url": pictureHost + direct,
	}}), nil
}

// setPicture sets (data nil: removes) the picture of the actor or of a group
// it is in, and returns the new id and the notification to send once the
// answer is out.
func (s *Server) setPicture(actor *account, target types.JID, data []byte) (string, func(), error) {
	if data != nil && !bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}) {
		return "", nil, errNotAcceptable // not a JPEG
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key, a, g, err := s.pictureOwnerLocked(actor, target)
	if err != nil {
		return "", nil, err
	}
	if a != nil && a != actor {
		return "", nil, errNotGroupAdmin // someone else's picture: 401
	}
	if g != nil {
		if err := g.mayEditInfo(actor); err != nil {
			return "", nil, err
		}
	}
	if s.pictures.byOwner == nil {
		s.pictures = pictureState{byOwner: map[string]*profilePicture{}, byID: map[string]*profilePicture{}, lastID: time.Now().Unix()}
	}
	if old := s.pictures.byOwner[key]; old != nil {
		delete(s.pictures.byID, old.id)
		delete(s.pictures.byOwner, key)
	}
	owner := target.ToNonAD()
	var id string
	change := waBinary.Node{Tag: "delete", Attrs: waBinary.Attrs{"jid": owner, "author": actor.JID}}
	if data != nil {
		s.pictures.lastID++
		id = strconv.FormatInt(s.pictures.lastID, 10)
		p := &profilePicture{id: id, data: append([]byte(nil), data...)}
		s.pictures.byOwner[key], s.pictures.byID[id] = p, p
		change = waBinary.Node{Tag: "set", Attrs: waBinary.Attrs{"jid": owner, "id": id, "author": actor.JID}}
	}
	// A group's members hear of it; a user's picture its own devices and the
	// accounts it has chatted with.
	var targets []*device
	if g != nil {
		targets = g.memberDevicesLocked()
	} else {
		for _, other := range s.accounts {
			if other == a || s.chats[chatKey(a, other)] {
				targets = append(targets, other.sortedDevices()...)
			}
		}
	}
	node := waBinary.Node{Tag: "notification", Attrs: waBinary.Attrs{
		"from": owner, "type": "picture", "id": s.newID(), "t": strconv.FormatInt(time.Now().Unix(), 10),
	}, Content: []waBinary.Node{change}}
	return id, func() {
		for _, t := range targets {
			s.deliver(t, node)
		}
	}, nil
}

// SetProfilePicture is the account's phone setting its profile picture (a
// JPEG), or removing it with nil. It returns the new picture id.
func (s *Server) SetProfilePicture(phone string, jpeg []byte) (string, error) {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return "", err
	}
	id, notify, err := s.setPicture(a, a.JID, jpeg)
	if err != nil {
		return "", fmt.Errorf("profile picture of %s: %w", a.Phone, err)
	}
	notify()
	return id, nil
}

// servePicture serves GET /v/t61.24694-24/<id>_<type>.jpg (the preview is
// the same picture: fakewa does not scale images).
func (s *Server) servePicture(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, picturePathBase)
	id, _, _ := strings.Cut(name, "_")
	s.mu.Lock()
	p := s.pictures.byID[id]
	s.mu.Unlock()
	if p == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(p.data)
}

// pictureRoutes serves the pictures and the control API's
// POST /api/accounts/{phone}/picture {"data": base64 JPEG, "" removes} -> {"id"}.
func (s *Server) pictureRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+picturePathBase, s.servePicture)
	mux.HandleFunc("POST /api/accounts/{phone}/picture", func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		var req struct {
			Data []byte `json:"data"`
		}
		if err := readJSON(r, &req); err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		if len(req.Data) == 0 {
			req.Data = nil
		}
		id, err := s.SetProfilePicture(r.PathValue("phone"), req.Data)
		if err != nil {
			writeErr(w, groupAPIStatus(err), err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": id})
	})
}
