//go:build !js

package fakewa

import (
	"strconv"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// The group's wire shapes, as whatsmeow (group.go parseGroupNode,
// parseParticipant, parseGroupChange), Baileys 7 (Socket/groups.ts
// extractGroupMetadata, messages-recv.ts handleGroupNotification) and
// whatsapp-rust (wacore/src/iq/groups.rs GroupInfoResponse) read them.

// userAttrs puts an account under key in the group's addressing form, with
// the phone number under key+"_pn" in a LID group (creator_pn, s_o_pn,
// participant_pn: the names whatsmeow and Baileys read).
func (g *group) userAttrs(attrs waBinary.Attrs, key string, a *account) {
	if a == nil {
		return
	}
	if g.lidMode {
		attrs[key], attrs[key+"_pn"] = a.LID, a.JID
	} else {
		attrs[key] = a.JID
	}
}

// participantNode is <participant jid type phone_number|lid/>: a LID group
// names members by LID with phone_number, a PN group by phone number with lid.
func (g *group) participantNode(a *account, role string) waBinary.Node {
	attrs := waBinary.Attrs{}
	if g.lidMode {
		attrs["jid"], attrs["phone_number"] = a.LID, a.JID
	} else {
		attrs["jid"], attrs["lid"] = a.JID, a.LID
	}
	if role != "" {
		attrs["type"] = role
	}
	return waBinary.Node{Tag: "participant", Attrs: attrs}
}

// resultNodes are the <participant> lines of a create or participants answer.
func (g *group) resultNodes(results []participantResult) []waBinary.Node {
	out := make([]waBinary.Node, 0, len(results))
	for _, r := range results {
		var n waBinary.Node
		if r.acct != nil {
			n = g.participantNode(r.acct, "")
		} else {
			n = waBinary.Node{Tag: "participant", Attrs: waBinary.Attrs{"jid": r.jid}}
		}
		if r.error != 0 {
			n.Attrs["error"] = strconv.Itoa(r.error)
		}
		out = append(out, n)
	}
	return out
}

// node is the <group> element of info, create and participating answers.
func (g *group) node() waBinary.Node {
	mode := "pn"
	if g.lidMode {
		mode = "lid"
	}
	attrs := waBinary.Attrs{
		"id": g.JID.User, "subject": g.Subject, "s_t": strconv.FormatInt(g.SubjectAt, 10),
		"creation": strconv.FormatInt(g.CreatedAt, 10), "addressing_mode": mode,
		"size": strconv.Itoa(len(g.members)),
	}
	g.userAttrs(attrs, "creator", g.Creator)
	g.userAttrs(attrs, "s_o", g.SubjectBy)
	content := make([]waBinary.Node, 0, len(g.members)+2)
	for _, m := range g.members {
		content = append(content, g.participantNode(m.acct, m.role))
	}
	if g.Topic != "" {
		desc := waBinary.Attrs{"id": g.TopicID, "t": strconv.FormatInt(g.TopicAt, 10)}
		g.userAttrs(desc, "participant", g.TopicBy)
		content = append(content, waBinary.Node{Tag: "description", Attrs: desc,
			Content: []waBinary.Node{{Tag: "body", Content: []byte(g.Topic)}}})
	}
	content = append(content, g.settingNodes()...)
	content = append(content, waBinary.Node{Tag: "member_add_mode", Content: []byte(g.settings.addMode())})
	return waBinary.Node{Tag: "group", Attrs: attrs, Content: content}
}

// notification is a w:gp2 notification of one change made by actor:
// <notification from=group type="w:gp2" participant participant_pn notify t id>.
func (s *Server) groupNotification(g *group, actor *account, child waBinary.Node) waBinary.Node {
	attrs := waBinary.Attrs{"from": g.JID, "type": "w:gp2", "id": s.newID(), "t": strconv.FormatInt(time.Now().Unix(), 10)}
	g.userAttrs(attrs, "participant", actor)
	if actor != nil && actor.PushName != "" {
		attrs["notify"] = actor.PushName
	}
	return waBinary.Node{Tag: "notification", Attrs: attrs, Content: []waBinary.Node{child}}
}

// notifyGroup delivers a w:gp2 notification to every device of every member
// and of the accounts in also (members just removed, who hear of it too).
// Call without Server.mu.
func (s *Server) notifyGroup(g *group, actor *account, child waBinary.Node, also ...*account) {
	s.mu.Lock()
	node := s.groupNotification(g, actor, child)
	targets := g.memberDevicesLocked()
	for _, a := range also {
		if g.member(a) == nil {
			targets = append(targets, a.sortedDevices()...)
		}
	}
	s.mu.Unlock()
	for _, d := range targets {
		s.deliver(d, node)
	}
}

// participantsChange is the <add|remove|promote|demote> child of a
// notification, listing the members the change reached.
func (g *group) participantsChange(action string, results []participantResult, attrs waBinary.Attrs) waBinary.Node {
	var list []waBinary.Node
	for _, r := range results {
		if r.error == 0 && r.acct != nil {
			list = append(list, g.participantNode(r.acct, ""))
		}
	}
	return waBinary.Node{Tag: action, Attrs: attrs, Content: list}
}

// changedAccounts are the accounts of the results that went through.
func changedAccounts(results []participantResult) []*account {
	var out []*account
	for _, r := range results {
		if r.error == 0 && r.acct != nil {
			out = append(out, r.acct)
		}
	}
	return out
}

// subjectChange is the <subject subject s_t s_o s_o_pn/> child.
func (g *group) subjectChange() waBinary.Node {
	attrs := waBinary.Attrs{"subject": g.Subject, "s_t": strconv.FormatInt(g.SubjectAt, 10)}
	g.userAttrs(attrs, "s_o", g.SubjectBy)
	return waBinary.Node{Tag: "subject", Attrs: attrs}
}

// topicChange is <description id><body/></description>, or <delete/> inside.
func (g *group) topicChange() waBinary.Node {
	inner := waBinary.Node{Tag: "body", Content: []byte(g.Topic)}
	if g.Topic == "" {
		inner = waBinary.Node{Tag: "delete"}
	}
	return waBinary.Node{Tag: "description", Attrs: waBinary.Attrs{"id": g.TopicID}, Content: []waBinary.Node{inner}}
}

// jidsOf reads the jid of each <participant> child.
func jidsOf(n waBinary.Node) []types.JID {
	var out []types.JID
	for _, p := range n.GetChildrenByTag("participant") {
		if j, ok := p.Attrs["jid"].(types.JID); ok {
			out = append(out, j)
		}
	}
	return out
}
