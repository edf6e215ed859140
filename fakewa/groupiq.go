//go:build !js

package fakewa

import (
	"sort"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// handleGroupIQ answers <iq xmlns="w:g2">: to "g.us" for create, participating,
// leave and invite codes, to a group JID for everything about that group.
// Changes are told to every member device as w:gp2 notifications once the
// answer is on its way (done runs after the answer is sent).
func (s *Server) handleGroupIQ(d *device, node *waBinary.Node) (resp waBinary.Node, done func()) {
	to, _ := node.Attrs["to"].(types.JID)
	typ, _ := node.Attrs["type"].(string)
	var child waBinary.Node
	if ch := node.GetChildren(); len(ch) == 1 {
		child = ch[0]
	} else {
		return groupIQError(node, to, errGroupBadReq), nil
	}
	var content []waBinary.Node
	var err error
	actor := d.acct
	switch {
	case to.Server != types.GroupServer:
		err = errGroupBadReq
	case to.User == "" && typ == "set" && child.Tag == "create":
		content, done, err = s.groupCreateIQ(actor, child)
	case to.User == "" && typ == "get" && child.Tag == "participating":
		content = []waBinary.Node{s.participatingNode(actor)}
	case to.User == "" && typ == "set" && child.Tag == "leave":
		content, done, err = s.groupLeaveIQ(actor, child)
	case to.User == "" && child.Tag == "invite":
		content, done, err = s.groupInviteCodeIQ(actor, typ, child)
	case to.User == "":
		err = &iqFailure{501, "feature-not-implemented"}
	default:
		content, done, err = s.groupChangeIQ(actor, to, typ, child)
	}
	if err != nil {
		f := failureOf(err)
		s.log.Infof("%s: w:g2 %s <%s> to %s: %v", d.JID, typ, child.Tag, to, err)
		return groupIQError(node, to, f), nil
	}
	resp = iqResult(node, content...)
	resp.Attrs["from"] = to
	return resp, done
}

func groupIQError(req *waBinary.Node, to types.JID, f *iqFailure) waBinary.Node {
	n := iqError(req, f.code, f.text)
	if !to.IsEmpty() {
		n.Attrs["from"] = to
	}
	return n
}

// groupCreateIQ: <create subject key><participant jid/>...</create>, answered
// with the new <group>; every member device gets <create> in a notification.
func (s *Server) groupCreateIQ(actor *account, child waBinary.Node) ([]waBinary.Node, func(), error) {
	subject, _ := child.Attrs["subject"].(string)
	key, _ := child.Attrs["key"].(string)
	var settings groupSettings
	for _, c := range child.GetChildren() {
		switch c.Tag {
		case "participant":
		case "member_add_mode":
			mode, _ := c.Content.([]byte)
			if err := settings.setAddMode(string(mode)); err != nil {
				return nil, nil, err
			}
		case "member_link_mode", "membership_approval_mode":
			// Settings a new group starts with; fakewa keeps the defaults.
		default:
			// Communities and settings at creation are not kept (set them after).
			return nil, nil, &iqFailure{501, "feature-not-implemented"}
		}
	}
	s.mu.Lock()
	g, results, err := s.createGroupLocked(actor, subject, key, jidsOf(child))
	if err != nil {
		s.mu.Unlock()
		return nil, nil, err
	}
	g.settings = settings
	answer := g.node()
	// Numbers that are no account come back with their error.
	for _, n := range g.resultNodes(results) {
		if _, failed := n.Attrs["error"]; failed {
			answer.Content = append(answer.GetChildren(), n)
		}
	}
	created := s.groupCreateNotice(g)
	s.mu.Unlock()
	s.log.Infof("%s created group %s %q with %d members", actor.Phone, g.JID, subject, len(g.members))
	return []waBinary.Node{answer}, func() { s.notifyGroup(g, actor, created) }, nil
}

// groupCreateNotice is the <create type="new" key><group/></create> child
// whatsmeow turns into events.JoinedGroup (parseGroupCreate).
func (s *Server) groupCreateNotice(g *group) waBinary.Node {
	attrs := waBinary.Attrs{"type": "new"}
	if g.createdKey != "" {
		attrs["key"] = g.createdKey
	}
	return waBinary.Node{Tag: "create", Attrs: attrs, Content: []waBinary.Node{g.node()}}
}

// participatingNode is <groups> with every group the account is in.
func (s *Server) participatingNode(a *account) waBinary.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []waBinary.Node
	for _, g := range s.groups.byID {
		if g.member(a) != nil {
			list = append(list, g.node())
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Attrs["id"].(string) < list[j].Attrs["id"].(string) })
	return waBinary.Node{Tag: "groups", Content: list}
}

// groupLeaveIQ: <leave><group id/>...</leave>; the others hear a <remove>
// with the leaver as actor (Baileys reads that as GROUP_PARTICIPANT_LEAVE).
func (s *Server) groupLeaveIQ(actor *account, child waBinary.Node) ([]waBinary.Node, func(), error) {
	var left []*group
	var answer []waBinary.Node
	s.mu.Lock()
	for _, gn := range child.GetChildrenByTag("group") {
		jid, _ := gn.Attrs["id"].(types.JID)
		g, err := s.groupLocked(jid)
		if err == nil && g.member(actor) == nil {
			err = errNotInGroup
		}
		if err != nil {
			s.mu.Unlock()
			return nil, nil, err
		}
		g.removeMember(actor)
		left = append(left, g)
		answer = append(answer, waBinary.Node{Tag: "group", Attrs: waBinary.Attrs{"id": g.JID}})
	}
	s.mu.Unlock()
	if len(left) == 0 {
		return nil, nil, errGroupBadReq
	}
	return []waBinary.Node{{Tag: "leave", Content: answer}}, func() {
		for _, g := range left {
			s.mu.Lock()
			change := waBinary.Node{Tag: "remove", Content: []waBinary.Node{g.participantNode(actor, "")}}
			s.mu.Unlock()
			s.notifyGroup(g, actor, change, actor)
		}
	}, nil
}

// groupInviteCodeIQ: <invite code/> to g.us; get tells the group behind the
// code, set joins it (answer <group jid/>, the members hear an <add
// reason="invite">).
func (s *Server) groupInviteCodeIQ(actor *account, typ string, child waBinary.Node) ([]waBinary.Node, func(), error) {
	code, _ := child.Attrs["code"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupByInviteLocked(code)
	if err != nil {
		return nil, nil, err
	}
	if typ == "get" {
		return []waBinary.Node{g.node()}, nil, nil
	}
	answer := []waBinary.Node{{Tag: "group", Attrs: waBinary.Attrs{"jid": g.JID}}}
	if g.member(actor) != nil {
		return answer, nil, nil
	}
	g.members = append(g.members, &groupMember{acct: actor})
	change := waBinary.Node{Tag: "add", Attrs: waBinary.Attrs{"reason": "invite"},
		Content: []waBinary.Node{g.participantNode(actor, "")}}
	return answer, func() { s.notifyGroup(g, actor, change) }, nil
}

// groupChangeIQ is an iq to one group: info, participants, subject,
// description, invite code.
func (s *Server) groupChangeIQ(actor *account, to types.JID, typ string, child waBinary.Node) ([]waBinary.Node, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupLocked(to)
	if err != nil {
		return nil, nil, err
	}
	isMember := g.member(actor) != nil
	switch {
	case typ == "get" && child.Tag == "query":
		if !isMember {
			return nil, nil, errNotInGroup
		}
		return []waBinary.Node{g.node()}, nil, nil
	case typ == "set" && (child.Tag == "add" || child.Tag == "remove" || child.Tag == "promote" || child.Tag == "demote"):
		results, err := s.changeParticipantsLocked(g, actor, child.Tag, jidsOf(child))
		if err != nil {
			return nil, nil, err
		}
		answer := waBinary.Node{Tag: child.Tag, Content: g.resultNodes(results)}
		change := g.participantsChange(child.Tag, results, nil)
		var removed []*account
		if child.Tag == "remove" {
			removed = changedAccounts(results)
		}
		return []waBinary.Node{answer}, s.ifChanged(g, actor, change, removed), nil
	case typ == "set" && child.Tag == "subject":
		subject, _ := child.Content.([]byte)
		if err := g.mayEditInfo(actor); err != nil {
			return nil, nil, err
		}
		if err := checkSubject(string(subject)); err != nil {
			return nil, nil, err
		}
		g.Subject, g.SubjectAt, g.SubjectBy = string(subject), time.Now().Unix(), actor
		change := g.subjectChange()
		return nil, func() { s.notifyGroup(g, actor, change) }, nil
	case typ == "set" && child.Tag == "description":
		id, _ := child.Attrs["id"].(string)
		prev, _ := child.Attrs["prev"].(string)
		remove := child.Attrs["delete"] == "true"
		body, ok := child.GetChildByTag("body").Content.([]byte)
		if !remove && !ok {
			return nil, nil, errGroupBadReq // neither a body nor delete="true"
		}
		if err := g.mayEditInfo(actor); err != nil {
			return nil, nil, err
		}
		if err := s.setTopicLocked(g, actor, id, prev, string(body), remove); err != nil {
			return nil, nil, err
		}
		change := g.topicChange()
		return nil, func() { s.notifyGroup(g, actor, change) }, nil
	case child.Tag == "invite":
		code, err := s.inviteCodeLocked(g, actor, typ == "set")
		if err != nil {
			return nil, nil, err
		}
		var done func()
		if typ == "set" {
			change := waBinary.Node{Tag: "invite", Attrs: waBinary.Attrs{"code": code}}
			done = func() { s.notifyGroup(g, actor, change) }
		}
		return []waBinary.Node{{Tag: "invite", Attrs: waBinary.Attrs{"code": code}}}, done, nil
	case typ == "set" && isGroupSetting(child.Tag):
		change, err := s.setGroupSettingLocked(g, actor, child)
		if err != nil {
			return nil, nil, err
		}
		return nil, func() { s.notifyGroup(g, actor, change) }, nil
	case !isMember:
		return nil, nil, errNotInGroup
	}
	return nil, nil, &iqFailure{501, "feature-not-implemented"}
}

// ifChanged notifies the change unless it reached nobody.
func (s *Server) ifChanged(g *group, actor *account, change waBinary.Node, removed []*account) func() {
	if len(change.GetChildren()) == 0 {
		return nil
	}
	return func() { s.notifyGroup(g, actor, change, removed...) }
}
