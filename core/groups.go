package core

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// Groups: create, list, read, change members, name and topic, leave,
// invite links, and the group.update events of changes.

// GroupParticipant is a member of a group.
type GroupParticipant struct {
	// JID: the phone-number JID when known, else the LID.
	JID          string  `json:"jid"`
	LID          *string `json:"lid"`
	IsAdmin      bool    `json:"isAdmin"`
	IsSuperAdmin bool    `json:"isSuperAdmin"`
	// Error: the service's code when this participant could not be added
	// or changed (e.g. 403: their privacy settings, 409: already a member).
	Error int `json:"error,omitempty"`
}

// GroupInfo describes a group.
type GroupInfo struct {
	JID            string             `json:"jid"`
	Name           string             `json:"name"`
	Topic          string             `json:"topic"`
	Owner          *string            `json:"owner"`
	Created        int64              `json:"created"`
	Announce       bool               `json:"announce"`
	Locked         bool               `json:"locked"`
	AddressingMode string             `json:"addressingMode"`
	Participants   []GroupParticipant `json:"participants"`
}

// GroupUpdate: a group changed (or we joined one: Joined, with Info). The
// fields of what changed are given, the others omitted.
type GroupUpdate struct {
	JID      string     `json:"jid"`
	Author   *string    `json:"author"`
	Time     int64      `json:"time"`
	Joined   bool       `json:"joined,omitempty"`
	Info     *GroupInfo `json:"info,omitempty"`
	Name     *string    `json:"name,omitempty"`
	Topic    *string    `json:"topic,omitempty"`
	Announce *bool      `json:"announce,omitempty"`
	Locked   *bool      `json:"locked,omitempty"`
	Added    []string   `json:"added,omitempty"`
	Removed  []string   `json:"removed,omitempty"`
	Promoted []string   `json:"promoted,omitempty"`
	Demoted  []string   `json:"demoted,omitempty"`
	// InviteLink: the new invite link, when it was reset.
	InviteLink *string `json:"inviteLink,omitempty"`
}

func (GroupUpdate) EventName() string { return "group.update" }

func (c *Client) groupInfo(g *types.GroupInfo) GroupInfo {
	out := GroupInfo{JID: g.JID.String(), Name: g.Name, Topic: g.Topic, Created: g.GroupCreated.UnixMilli(),
		Announce: g.IsAnnounce, Locked: g.IsLocked, AddressingMode: string(g.AddressingMode), Participants: []GroupParticipant{}}
	if owner := firstJID(g.OwnerPN, g.OwnerJID); !owner.IsEmpty() {
		pn, _ := c.bothForms(owner, types.EmptyJID)
		out.Owner = strPtr(pn)
	}
	for _, p := range g.Participants {
		out.Participants = append(out.Participants, c.participant(p))
	}
	return out
}

func (c *Client) participant(p types.GroupParticipant) GroupParticipant {
	other := p.LID
	if p.JID.Server == types.HiddenUserServer {
		other = p.PhoneNumber
	}
	jid, lid := c.bothForms(p.JID, other)
	if strings.HasSuffix(jid, "@"+types.HiddenUserServer) {
		lid = strPtr(jid)
	}
	return GroupParticipant{JID: jid, LID: lid, IsAdmin: p.IsAdmin, IsSuperAdmin: p.IsSuperAdmin, Error: p.Error}
}

func firstJID(js ...types.JID) types.JID {
	for _, j := range js {
		if !j.IsEmpty() {
			return j
		}
	}
	return types.EmptyJID
}

func (c *Client) pageJIDs(js []types.JID) []string {
	var out []string
	for _, j := range js {
		pn, _ := c.bothForms(j.ToNonAD(), types.EmptyJID)
		out = append(out, pn)
	}
	return out
}

func (c *Client) emitGroupUpdate(v *events.GroupInfo) {
	u := GroupUpdate{JID: v.JID.String(), Time: v.Timestamp.UnixMilli(), InviteLink: v.NewInviteLink,
		Added: c.pageJIDs(v.Join), Removed: c.pageJIDs(v.Leave), Promoted: c.pageJIDs(v.Promote), Demoted: c.pageJIDs(v.Demote)}
	if v.Sender != nil {
		alt := types.EmptyJID
		if v.SenderPN != nil {
			alt = *v.SenderPN
		}
		author, _ := c.bothForms(v.Sender.ToNonAD(), alt)
		u.Author = strPtr(author)
	}
	if v.Name != nil {
		u.Name = strPtr(v.Name.Name)
	}
	if v.Topic != nil {
		u.Topic = strPtr(v.Topic.Topic)
	}
	if v.Announce != nil {
		u.Announce = &v.Announce.IsAnnounce
	}
	if v.Locked != nil {
		u.Locked = &v.Locked.IsLocked
	}
	c.emit(u)
}

func (c *Client) emitJoinedGroup(v *events.JoinedGroup) {
	info := c.groupInfo(&v.GroupInfo)
	u := GroupUpdate{JID: v.JID.String(), Time: v.GroupCreated.UnixMilli(), Joined: true, Info: &info}
	if v.Sender != nil {
		author, _ := c.bothForms(v.Sender.ToNonAD(), types.EmptyJID)
		u.Author = strPtr(author)
	}
	c.emit(u)
}

// groupJID parses a group's JID.
func groupJID(s, sig string) (types.JID, error) {
	j, err := parseJID(s)
	if err != nil {
		return j, err
	}
	if j.Server != types.GroupServer {
		return j, Errorf(CodeInvalidJID, "%s: %s is not a group (id@g.us)", sig, j)
	}
	return j, nil
}

// maxGroupName: the service refuses longer names with 406 (whatsmeow's
// ReqCreateGroup documents 25 characters).
const maxGroupName = 25

func checkGroupName(name, sig string) error {
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > maxGroupName {
		return Errorf(CodeInvalidOption, "%s: name must be 1 to %d characters", sig, maxGroupName)
	}
	return nil
}

func groupErr(op string, err error) error { return Errorf(CodeSend, "%s: %w", op, err) }

// CreateGroup creates a group with us as its owner.
func (c *Client) CreateGroup(ctx context.Context, name string, participants []string) (GroupInfo, error) {
	const sig = "createGroup(name, participants)"
	cli, err := c.readyToSend("createGroup")
	if err != nil {
		return GroupInfo{}, err
	}
	if err := checkGroupName(name, sig); err != nil {
		return GroupInfo{}, err
	}
	users, err := userJIDs(participants, sig)
	if err != nil {
		return GroupInfo{}, err
	}
	g, err := cli.CreateGroup(ctx, whatsmeow.ReqCreateGroup{Name: name, Participants: users})
	if err != nil {
		return GroupInfo{}, groupErr("createGroup", err)
	}
	return c.groupInfo(g), nil
}

// GetJoinedGroups lists the groups we are in.
func (c *Client) GetJoinedGroups(ctx context.Context) ([]GroupInfo, error) {
	cli, err := c.readyToSend("getJoinedGroups")
	if err != nil {
		return nil, err
	}
	gs, err := cli.GetJoinedGroups(ctx)
	if err != nil {
		return nil, groupErr("getJoinedGroups", err)
	}
	out := make([]GroupInfo, 0, len(gs))
	for _, g := range gs {
		out = append(out, c.groupInfo(g))
	}
	return out, nil
}

// GetGroupInfo reads a group's metadata and members.
func (c *Client) GetGroupInfo(ctx context.Context, jid string) (GroupInfo, error) {
	cli, err := c.readyToSend("getGroupInfo")
	if err != nil {
		return GroupInfo{}, err
	}
	j, err := groupJID(jid, "getGroupInfo(jid)")
	if err != nil {
		return GroupInfo{}, err
	}
	g, err := cli.GetGroupInfo(ctx, j)
	if err != nil {
		return GroupInfo{}, groupErr("getGroupInfo "+j.String(), err)
	}
	return c.groupInfo(g), nil
}

// UpdateGroupParticipants adds, removes, promotes or demotes members; each
// participant's result says whether it worked (Error).
func (c *Client) UpdateGroupParticipants(ctx context.Context, jid, action string, participants []string) ([]GroupParticipant, error) {
	const sig = "updateGroupParticipants(jid, action, participants)"
	cli, err := c.readyToSend("updateGroupParticipants")
	if err != nil {
		return nil, err
	}
	j, err := groupJID(jid, sig)
	if err != nil {
		return nil, err
	}
	switch whatsmeow.ParticipantChange(action) {
	case whatsmeow.ParticipantChangeAdd, whatsmeow.ParticipantChangeRemove, whatsmeow.ParticipantChangePromote, whatsmeow.ParticipantChangeDemote:
	default:
		return nil, Errorf(CodeInvalidOption, "%s: action must be 'add', 'remove', 'promote' or 'demote', got %q", sig, action)
	}
	users, err := userJIDs(participants, sig)
	if err != nil {
		return nil, err
	}
	res, err := cli.UpdateGroupParticipants(ctx, j, users, whatsmeow.ParticipantChange(action))
	if err != nil {
		return nil, groupErr("updateGroupParticipants", err)
	}
	out := make([]GroupParticipant, 0, len(res))
	for _, p := range res {
		out = append(out, c.participant(p))
	}
	return out, nil
}

// SetGroupName renames a group.
func (c *Client) SetGroupName(ctx context.Context, jid, name string) error {
	const sig = "setGroupName(jid, name)"
	cli, err := c.readyToSend("setGroupName")
	if err != nil {
		return err
	}
	j, err := groupJID(jid, sig)
	if err != nil {
		return err
	}
	if err := checkGroupName(name, sig); err != nil {
		return err
	}
	if err := cli.SetGroupName(ctx, j, name); err != nil {
		return groupErr("setGroupName", err)
	}
	return nil
}

// maxGroupTopic: WhatsApp's clients allow descriptions of 2048 characters.
const maxGroupTopic = 2048

// SetGroupTopic sets (or with "" removes) a group's description.
func (c *Client) SetGroupTopic(ctx context.Context, jid, topic string) error {
	const sig = "setGroupTopic(jid, topic)"
	cli, err := c.readyToSend("setGroupTopic")
	if err != nil {
		return err
	}
	j, err := groupJID(jid, sig)
	if err != nil {
		return err
	}
	if utf8.RuneCountInString(topic) > maxGroupTopic {
		return Errorf(CodeInvalidOption, "%s: topic must be at most %d characters", sig, maxGroupTopic)
	}
	if err := cli.SetGroupTopic(ctx, j, "", "", topic); err != nil {
		return groupErr("setGroupTopic", err)
	}
	return nil
}

// LeaveGroup leaves a group.
func (c *Client) LeaveGroup(ctx context.Context, jid string) error {
	cli, err := c.readyToSend("leaveGroup")
	if err != nil {
		return err
	}
	j, err := groupJID(jid, "leaveGroup(jid)")
	if err != nil {
		return err
	}
	if err := cli.LeaveGroup(ctx, j); err != nil {
		return groupErr("leaveGroup", err)
	}
	return nil
}

// GetGroupInviteLink is the group's invite link (https://chat.whatsapp.com/
// code), a new one when reset (which revokes the old).
func (c *Client) GetGroupInviteLink(ctx context.Context, jid string, reset bool) (string, error) {
	cli, err := c.readyToSend("getGroupInviteLink")
	if err != nil {
		return "", err
	}
	j, err := groupJID(jid, "getGroupInviteLink(jid, reset)")
	if err != nil {
		return "", err
	}
	link, err := cli.GetGroupInviteLink(ctx, j, reset)
	if err != nil {
		return "", groupErr("getGroupInviteLink", err)
	}
	return link, nil
}

// JoinGroupWithLink joins the group of an invite link (or its code) and
// gives its JID.
func (c *Client) JoinGroupWithLink(ctx context.Context, link string) (string, error) {
	cli, err := c.readyToSend("joinGroupWithLink")
	if err != nil {
		return "", err
	}
	code := strings.TrimPrefix(link, whatsmeow.InviteLinkPrefix)
	if code == "" || len(code) > 64 || strings.ContainsAny(code, "/?# ") {
		return "", Errorf(CodeInvalidOption, "joinGroupWithLink(link): %q is not an invite link (%scode) or code", link, whatsmeow.InviteLinkPrefix)
	}
	j, err := cli.JoinGroupWithLink(ctx, code)
	if err != nil {
		return "", groupErr("joinGroupWithLink", err)
	}
	return j.String(), nil
}

func init() {
	register("createGroup", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		const sig = "createGroup(name, participants)"
		name, err := stringArg(args, 0, sig, "name")
		if err != nil {
			return nil, err
		}
		users, err := stringsArg(args, 1, sig, "participants")
		if err != nil {
			return nil, err
		}
		return c.CreateGroup(ctx, name, users)
	})
	register("getJoinedGroups", func(c *Client, ctx context.Context, _ []json.RawMessage) (any, error) {
		return c.GetJoinedGroups(ctx)
	})
	register("getGroupInfo", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		jid, err := jidArg(args, 0, "getGroupInfo(jid)", "jid")
		if err != nil {
			return nil, err
		}
		return c.GetGroupInfo(ctx, jid)
	})
	register("updateGroupParticipants", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		const sig = "updateGroupParticipants(jid, action, participants)"
		jid, err := jidArg(args, 0, sig, "jid")
		if err != nil {
			return nil, err
		}
		action, err := stringArg(args, 1, sig, "action")
		if err != nil {
			return nil, err
		}
		users, err := stringsArg(args, 2, sig, "participants")
		if err != nil {
			return nil, err
		}
		return c.UpdateGroupParticipants(ctx, jid, action, users)
	})
	register("setGroupName", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		const sig = "setGroupName(jid, name)"
		jid, err := jidArg(args, 0, sig, "jid")
		if err != nil {
			return nil, err
		}
		name, err := stringArg(args, 1, sig, "name")
		if err != nil {
			return nil, err
		}
		return nil, c.SetGroupName(ctx, jid, name)
	})
	register("setGroupTopic", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		const sig = "setGroupTopic(jid, topic)"
		jid, err := jidArg(args, 0, sig, "jid")
		if err != nil {
			return nil, err
		}
		topic, err := stringArg(args, 1, sig, "topic")
		if err != nil {
			return nil, err
		}
		return nil, c.SetGroupTopic(ctx, jid, topic)
	})
	register("leaveGroup", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		jid, err := jidArg(args, 0, "leaveGroup(jid)", "jid")
		if err != nil {
			return nil, err
		}
		return nil, c.LeaveGroup(ctx, jid)
	})
	register("getGroupInviteLink", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		const sig = "getGroupInviteLink(jid, reset?)"
		jid, err := jidArg(args, 0, sig, "jid")
		if err != nil {
			return nil, err
		}
		var reset *bool
		if err := json.Unmarshal(arg(args, 1), &reset); err != nil {
			return nil, Errorf(CodeInvalidOption, "%s: reset must be a boolean", sig)
		}
		return c.GetGroupInviteLink(ctx, jid, reset != nil && *reset)
	})
	register("joinGroupWithLink", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		link, err := stringArg(args, 0, "joinGroupWithLink(link)", "link")
		if err != nil {
			return nil, err
		}
		return c.JoinGroupWithLink(ctx, link)
	})
}
