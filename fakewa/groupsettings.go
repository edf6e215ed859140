//go:build !js

package fakewa

import (
	"strconv"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
)

// Group settings an admin sets with an iq to the group: <member_add_mode>
// admin_add|all_member_add</member_add_mode> (who adds members; a new group
// starts with admin_add unless its <create> says otherwise), <locked/> and
// <unlocked/> (only admins edit the group's info), <announcement/> and
// <not_announcement/> (only admins write), <ephemeral expiration/> and
// <not_ephemeral/> (disappearing messages). Members hear of each as a w:gp2
// child of the same name; announcement changes carry v_id, which whatsmeow
// requires (group.go parseGroupChange, SetGroupLocked, SetGroupAnnounce,
// send.go SetDisappearingTimer; whatsapp-rust SetGroupLockedIq,
// SetGroupAnnouncementIq, SetGroupEphemeralIq). The group's node shows them
// as <locked/>, <announcement/>, <ephemeral expiration/>.

// groupSettings are a group's switches. Guarded by Server.mu.
type groupSettings struct {
	allMembersAdd bool // member_add_mode all_member_add: any member adds members
	locked        bool
	announce      bool
	announceV     string // v_id of the last announcement change
	expiration    uint32 // disappearing timer in seconds, 0 off
}

// validExpirations are the disappearing timers the apps offer (24 hours, 7
// days, 90 days: whatsmeow DisappearingTimer24Hours, 7Days, 90Days); others
// are 400 (whatsmeow ErrInvalidDisappearingTimer).
var validExpirations = map[uint64]bool{86400: true, 604800: true, 7776000: true}

func isGroupSetting(tag string) bool {
	switch tag {
	case "locked", "unlocked", "announcement", "not_announcement", "ephemeral", "not_ephemeral", "member_add_mode":
		return true
	}
	return false
}

// setGroupSettingLocked applies one setting for an admin and returns the
// notification child.
func (s *Server) setGroupSettingLocked(g *group, actor *account, child waBinary.Node) (waBinary.Node, error) {
	m := g.member(actor)
	if m == nil {
		return waBinary.Node{}, errNotInGroup
	}
	if m.role == "" {
		return waBinary.Node{}, errNotGroupAdmin
	}
	change := waBinary.Node{Tag: child.Tag}
	switch child.Tag {
	case "locked", "unlocked":
		g.settings.locked = child.Tag == "locked"
	case "announcement", "not_announcement":
		g.settings.announce = child.Tag == "announcement"
		g.settings.announceV = strconv.FormatInt(time.Now().UnixMicro(), 10)
		change.Attrs = waBinary.Attrs{"v_id": g.settings.announceV}
	case "ephemeral":
		raw, _ := child.Attrs["expiration"].(string)
		exp, err := strconv.ParseUint(raw, 10, 32)
		if err != nil || !validExpirations[exp] {
			return waBinary.Node{}, errGroupBadReq
		}
		g.settings.expiration = uint32(exp)
		change.Attrs = waBinary.Attrs{"expiration": raw}
	case "not_ephemeral":
		g.settings.expiration = 0
	case "member_add_mode":
		mode, _ := child.Content.([]byte)
		if err := g.settings.setAddMode(string(mode)); err != nil {
			return waBinary.Node{}, err
		}
		change.Content = mode
	}
	return change, nil
}

// setAddMode takes a member_add_mode: admin_add or all_member_add
// (whatsmeow SetGroupMemberAddMode, Baileys groupMemberAddMode).
func (st *groupSettings) setAddMode(mode string) error {
	switch mode {
	case "admin_add", "all_member_add":
		st.allMembersAdd = mode == "all_member_add"
		return nil
	}
	return errGroupBadReq
}

func (st *groupSettings) addMode() string {
	if st.allMembersAdd {
		return "all_member_add"
	}
	return "admin_add"
}

// settingNodes are the settings' children of the group's node.
func (g *group) settingNodes() []waBinary.Node {
	var out []waBinary.Node
	if g.settings.locked {
		out = append(out, waBinary.Node{Tag: "locked"})
	}
	if g.settings.announce {
		out = append(out, waBinary.Node{Tag: "announcement"})
	}
	if g.settings.expiration != 0 {
		out = append(out, waBinary.Node{Tag: "ephemeral", Attrs: waBinary.Attrs{"expiration": strconv.FormatUint(uint64(g.settings.expiration), 10)}})
	}
	return out
}

// mayEditInfo says whether the account may change the subject, description
// or picture: any member, only admins once the group is locked.
func (g *group) mayEditInfo(a *account) error {
	m := g.member(a)
	if m == nil {
		return errNotInGroup
	}
	if g.settings.locked && m.role == "" {
		return errNotGroupAdmin
	}
	return nil
}

// maySend says whether the account may write: any member, only admins in an
// announcement group.
func (g *group) maySend(a *account) error {
	m := g.member(a)
	if m == nil {
		return errNotInGroup
	}
	if g.settings.announce && m.role == "" {
		return errNotGroupAdmin
	}
	return nil
}
