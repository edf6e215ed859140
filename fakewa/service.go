//go:build !js

package fakewa

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strconv"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// Queries today's clients make after login (Baileys 7, whatsapp-rust), with
// well-formed answers. See docs/SERVICE.md.

// handleDigest answers <iq xmlns=encrypt type=get><digest/>: the device's key
// bundle as the server holds it, and a SHA-1 over identity key, signed prekey,
// its signature and the one-time prekeys in list order, which a client
// compares with its own keys (WA Web's WAWebDigestKeyJob, as whatsapp-rust
// src/prekeys.rs validate_digest_key describes it). 404 means "no record":
// the client uploads its keys again.
func (s *Server) handleDigest(d *device, node *waBinary.Node) waBinary.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(d.signedPreKey.signature) == 0 {
		return iqError(node, 404, "item-not-found")
	}
	var reg [4]byte
	binary.BigEndian.PutUint32(reg[:], d.regID)
	h := sha1.New()
	h.Write(d.identity[:])
	h.Write(d.signedPreKey.pub[:])
	h.Write(d.signedPreKey.signature)
	ids := make([]waBinary.Node, len(d.preKeys))
	for i, k := range d.preKeys {
		h.Write(k.pub[:])
		ids[i] = waBinary.Node{Tag: "id", Content: uint24(k.id)}
	}
	return iqResult(node, waBinary.Node{Tag: "digest", Content: []waBinary.Node{
		{Tag: "registration", Content: reg[:]},
		{Tag: "type", Content: []byte{5}},
		{Tag: "identity", Content: d.identity[:]},
		preKeyNode("skey", d.signedPreKey),
		{Tag: "list", Content: ids},
		{Tag: "hash", Content: h.Sum(nil)},
	}})
}

func uint24(v uint32) []byte { return []byte{byte(v >> 16), byte(v >> 8), byte(v)} }

// handleABProps answers <iq xmlns=abt type=get><props protocol=1/> with the
// AB props today's clients act on (Baileys 7 Socket/chats.ts fetchProps reads
// prop config_code/config_value): 10518 privacy tokens on every 1:1 message,
// 14303 issue tokens to LIDs.
func (s *Server) handleABProps(node *waBinary.Node) waBinary.Node {
	set := s.Settings()
	props := [][2]string{
		{"10518", strconv.FormatBool(!set.NoTCTokenCheck)},
		{"14303", strconv.FormatBool(!set.PNAddressing)},
	}
	var children []waBinary.Node
	sum := sha256.New()
	for _, p := range props {
		children = append(children, waBinary.Node{Tag: "prop", Attrs: waBinary.Attrs{"config_code": p[0], "config_value": p[1]}})
		sum.Write([]byte(p[0] + "=" + p[1] + ";"))
	}
	return iqResult(node, waBinary.Node{Tag: "props", Attrs: waBinary.Attrs{
		"protocol": "1", "ab_key": "fakewa", "hash": hex.EncodeToString(sum.Sum(nil)[:8]), "refresh": "86400",
	}, Content: children})
}

// handleBlocklist answers blocklist get (the list) and set (<item jid
// action=block|unblock>, then the new list), as whatsmeow's GetBlocklist and
// UpdateBlocklist parse them: <list dhash><item jid/>...</list>.
func (s *Server) handleBlocklist(d *device, node *waBinary.Node) waBinary.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := d.acct
	if t, _ := node.Attrs["type"].(string); t == "set" {
		for _, item := range node.GetChildren() {
			jid, ok := item.Attrs["jid"].(types.JID)
			if item.Tag != "item" || !ok {
				return iqError(node, 400, "bad-request")
			}
			jid = jid.ToNonAD()
			if a.blocked == nil {
				a.blocked = make(map[types.JID]bool)
			}
			switch item.Attrs["action"] {
			case "block":
				a.blocked[jid] = true
			case "unblock":
				delete(a.blocked, jid)
			default:
				return iqError(node, 400, "bad-request")
			}
		}
	}
	list := make([]string, 0, len(a.blocked))
	for jid := range a.blocked {
		list = append(list, jid.String())
	}
	sort.Strings(list)
	items := make([]waBinary.Node, len(list))
	for i, j := range list {
		jid, _ := types.ParseJID(j)
		items[i] = waBinary.Node{Tag: "item", Attrs: waBinary.Attrs{"jid": jid}}
	}
	sum := sha256.New()
	for _, j := range list {
		sum.Write([]byte(j))
	}
	return iqResult(node, waBinary.Node{Tag: "list", Attrs: waBinary.Attrs{"dhash": hex.EncodeToString(sum.Sum(nil)[:8])}, Content: items})
}
