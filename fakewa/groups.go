//go:build !js

package fakewa

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"go.mau.fi/whatsmeow/types"
)

// Groups as the service keeps them: metadata, members with roles, invite
// codes. Evidence for every shape is in docs/SERVICE.md ("Groups").

// groupSubjectMax is the longest subject the service takes (the
// group_max_subject A/B prop, 100 in whatsapp-rust wacore/src/iq/groups.rs);
// a longer one is refused with 406.
const groupSubjectMax = 100

// groupDescriptionMax is group_description_length (2048, same source).
const groupDescriptionMax = 2048

// group is one group chat. Guarded by Server.mu.
type group struct {
	JID        types.JID // 1203630000000000@g.us
	Subject    string
	SubjectAt  int64
	SubjectBy  *account
	Creator    *account
	CreatedAt  int64
	Topic      string
	TopicID    string
	TopicAt    int64
	TopicBy    *account
	lidMode    bool // addressing_mode="lid": members named by LID, phone number alongside
	invite     string
	members    []*groupMember
	createdKey string
	settings   groupSettings // groupsettings.go
}

// groupMember is a member account and its role: "", "admin" or "superadmin"
// (the creator), as the <participant type> attribute names it.
type groupMember struct {
	acct *account
	role string
}

// groupState is every group of the server. Guarded by Server.mu; the zero
// value is ready.
type groupState struct {
	byID    map[string]*group // by the group JID's user part
	invites map[string]*group // live invite codes
	revoked map[string]bool   // codes reset since: joining by one is 410 gone
}

// iqFailure is an error the service answers with <error code text/>.
type iqFailure struct {
	code int
	text string
}

func (e *iqFailure) Error() string { return fmt.Sprintf("%d %s", e.code, e.text) }

// failureOf is the iqFailure in err, or 400 bad-request for any other error.
func failureOf(err error) *iqFailure {
	var f *iqFailure
	if errors.As(err, &f) {
		return f
	}
	return errGroupBadReq
}

// The codes whatsmeow maps to its group errors (group.go: 404 ErrGroupNotFound,
// 403 ErrNotInGroup, 401 ErrGroupInviteLinkUnauthorized, 406
// ErrInviteLinkInvalid, 410 ErrInviteLinkRevoked).
var (
	errGroupNotFound = &iqFailure{404, "item-not-found"}
	errNotInGroup    = &iqFailure{403, "forbidden"}
	errNotGroupAdmin = &iqFailure{401, "not-authorized"}
	errGroupBadReq   = &iqFailure{400, "bad-request"}
	errNotAcceptable = &iqFailure{406, "not-acceptable"}
	errTopicConflict = &iqFailure{409, "conflict"}
	errInviteRevoked = &iqFailure{410, "gone"}
)

func (g *group) member(a *account) *groupMember {
	for _, m := range g.members {
		if m.acct == a {
			return m
		}
	}
	return nil
}

// memberJID names an account the way the group addresses it.
func (g *group) memberJID(a *account) types.JID {
	if g.lidMode {
		return a.LID
	}
	return a.JID
}

// memberDevice names one device the way the group addresses it.
func (g *group) memberDevice(d *device) types.JID {
	if g.lidMode {
		return d.LID
	}
	return d.JID
}

// memberDevicesLocked lists every device of every member.
func (g *group) memberDevicesLocked() []*device {
	var out []*device
	for _, m := range g.members {
		out = append(out, m.acct.sortedDevices()...)
	}
	return out
}

// groupLocked finds a group by JID; errGroupNotFound if there is none.
func (s *Server) groupLocked(jid types.JID) (*group, error) {
	if jid.Server != types.GroupServer {
		return nil, errGroupNotFound
	}
	if g := s.groups.byID[jid.User]; g != nil {
		return g, nil
	}
	return nil, errGroupNotFound
}

// newGroupIDLocked makes an id in the form today's groups have: 120363
// followed by twelve digits.
func (s *Server) newGroupIDLocked() string {
	for {
		n, _ := rand.Int(rand.Reader, big.NewInt(1e12))
		id := fmt.Sprintf("120363%012d", n.Int64())
		if s.groups.byID[id] == nil {
			return id
		}
	}
}

// newInviteCode makes a code like the service's: 22 letters and digits.
func newInviteCode() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 22)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

// checkSubject refuses an empty or too long subject.
func checkSubject(subject string) error {
	if strings.TrimSpace(subject) == "" {
		return errGroupBadReq
	}
	if utf8.RuneCountInString(subject) > groupSubjectMax {
		return errNotAcceptable
	}
	return nil
}

// participantResult is one line of a create or participants-change answer:
// the account (nil if the JID named nobody) and an error code, 0 for done.
type participantResult struct {
	jid   types.JID
	acct  *account
	error int
}

// createGroupLocked makes a group with the creator as superadmin and the
// accounts named as members. JIDs that name no account come back with 404.
func (s *Server) createGroupLocked(creator *account, subject, key string, jids []types.JID) (*group, []participantResult, error) {
	if err := checkSubject(subject); err != nil {
		return nil, nil, err
	}
	if s.groups.byID == nil {
		s.groups = groupState{byID: map[string]*group{}, invites: map[string]*group{}, revoked: map[string]bool{}}
	}
	now := time.Now().Unix()
	g := &group{
		JID: types.NewJID(s.newGroupIDLocked(), types.GroupServer), Subject: subject, SubjectAt: now, SubjectBy: creator,
		Creator: creator, CreatedAt: now, lidMode: !s.settings.PNAddressing, createdKey: key,
		members: []*groupMember{{acct: creator, role: "superadmin"}},
	}
	var results []participantResult
	for _, j := range jids {
		a := s.userAccountLocked(j.ToNonAD())
		switch {
		case a == nil:
			results = append(results, participantResult{jid: j, error: 404})
		case g.member(a) != nil:
			// the creator, or named twice: the service adds it once
		default:
			g.members = append(g.members, &groupMember{acct: a})
			results = append(results, participantResult{jid: j, acct: a})
		}
	}
	s.groups.byID[g.JID.User] = g
	return g, results, nil
}

// changeParticipantsLocked adds, removes, promotes or demotes members for an
// admin (or adds them for any member when the group's member_add_mode is
// all_member_add). Per JID: 404 names no account (or, but for add, no
// member), 409 adds a member already there.
func (s *Server) changeParticipantsLocked(g *group, actor *account, action string, jids []types.JID) ([]participantResult, error) {
	am := g.member(actor)
	if am == nil {
		return nil, errNotInGroup
	}
	if am.role == "" && !(action == "add" && g.settings.allMembersAdd) {
		return nil, errNotGroupAdmin
	}
	var results []participantResult
	for _, j := range jids {
		a := s.userAccountLocked(j.ToNonAD())
		r := participantResult{jid: j, acct: a}
		var m *groupMember
		if a != nil {
			m = g.member(a)
		}
		switch {
		case a == nil:
			r.error = 404
		case action == "add" && m != nil:
			r.error = 409
		case action == "add":
			g.members = append(g.members, &groupMember{acct: a})
		case m == nil:
			r.error = 404
		case action == "remove":
			g.removeMember(a)
		case action == "promote":
			if m.role == "" {
				m.role = "admin"
			}
		case action == "demote":
			m.role = ""
		}
		results = append(results, r)
	}
	return results, nil
}

// shareGroupLocked says whether two accounts are members of one group: they
// then hear of each other's new and removed devices, as chat peers do.
func (s *Server) shareGroupLocked(a, b *account) bool {
	for _, g := range s.groups.byID {
		if g.member(a) != nil && g.member(b) != nil {
			return true
		}
	}
	return false
}

func (g *group) removeMember(a *account) {
	for i, m := range g.members {
		if m.acct == a {
			g.members = append(g.members[:i], g.members[i+1:]...)
			return
		}
	}
}

// setTopicLocked sets (or with an empty topic deletes) the description. prev
// must name the description in force, as the service checks (whatsapp-rust
// SetGroupDescriptionIq: "prev ... used for conflict detection").
func (s *Server) setTopicLocked(g *group, actor *account, id, prev, topic string, remove bool) error {
	if g.member(actor) == nil {
		return errNotInGroup
	}
	if id == "" {
		return errGroupBadReq
	}
	if prev != g.TopicID {
		return errTopicConflict
	}
	if utf8.RuneCountInString(topic) > groupDescriptionMax {
		return errNotAcceptable
	}
	if remove {
		topic = ""
	}
	g.Topic, g.TopicID, g.TopicAt, g.TopicBy = topic, id, time.Now().Unix(), actor
	return nil
}

// inviteCodeLocked is the group's invite code, made on first use; reset
// revokes the old one first.
func (s *Server) inviteCodeLocked(g *group, actor *account, reset bool) (string, error) {
	m := g.member(actor)
	if m == nil {
		return "", errNotInGroup
	}
	if m.role == "" {
		return "", errNotGroupAdmin
	}
	if reset && g.invite != "" {
		delete(s.groups.invites, g.invite)
		s.groups.revoked[g.invite] = true
		g.invite = ""
	}
	if g.invite == "" {
		g.invite = newInviteCode()
		s.groups.invites[g.invite] = g
	}
	return g.invite, nil
}

// groupByInviteLocked resolves an invite code (with or without the
// chat.whatsapp.com prefix).
func (s *Server) groupByInviteLocked(code string) (*group, error) {
	code = strings.TrimPrefix(code, "https://chat.whatsapp.com/")
	if g := s.groups.invites[code]; g != nil {
		return g, nil
	}
	if s.groups.revoked[code] {
		return nil, errInviteRevoked
	}
	return nil, errNotAcceptable
}
