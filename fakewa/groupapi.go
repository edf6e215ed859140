//go:build !js

package fakewa

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"go.mau.fi/whatsmeow/types"
)

// GroupInfo describes a group in the control API. Members are named by phone
// number JID, with their LID beside.
type GroupInfo struct {
	JID            string             `json:"jid"`
	Subject        string             `json:"subject"`
	Topic          string             `json:"topic,omitempty"`
	Creator        string             `json:"creator"`
	AddressingMode string             `json:"addressingMode"`
	Participants   []GroupParticipant `json:"participants"`
}

// GroupParticipant is a member of a group; Admin is "", "admin" or "superadmin".
type GroupParticipant struct {
	JID   string `json:"jid"`
	LID   string `json:"lid"`
	Admin string `json:"admin,omitempty"`
}

// ParticipantResult is what a participants change did for one JID: Error
// 0 done, 404 no such account (or, but for add, no member), 409 already a
// member.
type ParticipantResult struct {
	JID   string `json:"jid"`
	Error int    `json:"error,omitempty"`
}

func (g *group) info() GroupInfo {
	mode := "pn"
	if g.lidMode {
		mode = "lid"
	}
	out := GroupInfo{JID: g.JID.String(), Subject: g.Subject, Topic: g.Topic, Creator: g.Creator.JID.String(), AddressingMode: mode}
	for _, m := range g.members {
		out.Participants = append(out.Participants, GroupParticipant{JID: m.acct.JID.String(), LID: m.acct.LID.String(), Admin: m.role})
	}
	return out
}

// groupJIDFromString parses a group JID or its bare id.
func groupJIDFromString(raw string) (types.JID, error) {
	if !strings.Contains(raw, "@") {
		raw += "@" + types.GroupServer
	}
	j, err := types.ParseJID(raw)
	if err != nil || j.Server != types.GroupServer || j.User == "" {
		return types.JID{}, errGroupNotFound
	}
	return j, nil
}

// parseUserJIDs reads phone numbers or user JIDs (PN or LID).
func parseUserJIDs(raw []string) ([]types.JID, error) {
	out := make([]types.JID, 0, len(raw))
	for _, r := range raw {
		if strings.Contains(r, "@") {
			j, err := types.ParseJID(r)
			if err != nil {
				return nil, fmt.Errorf("bad participant %q: %w", r, err)
			}
			out = append(out, j.ToNonAD())
			continue
		}
		p, err := normalizePhone(r)
		if err != nil {
			return nil, fmt.Errorf("bad participant: %w", err)
		}
		out = append(out, types.NewJID(p, types.DefaultUserServer))
	}
	return out, nil
}

// CreateGroup is the account's phone creating a group with the participants
// (phone numbers or JIDs); every member device hears of it as it would of a
// group made by a companion.
func (s *Server) CreateGroup(phone, subject string, participants []string) (GroupInfo, error) {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return GroupInfo{}, err
	}
	jids, err := parseUserJIDs(participants)
	if err != nil {
		return GroupInfo{}, err
	}
	s.mu.Lock()
	g, results, err := s.createGroupLocked(a, subject, "", jids)
	if err != nil {
		s.mu.Unlock()
		return GroupInfo{}, fmt.Errorf("creating group %q: %w", subject, err)
	}
	for _, r := range results {
		if r.error != 0 {
			s.log.Infof("phone %s: group %s created without %s (error %d)", a.Phone, g.JID, r.jid, r.error)
		}
	}
	info, created := g.info(), s.groupCreateNotice(g)
	s.mu.Unlock()
	s.notifyGroup(g, a, created)
	return info, nil
}

// UpdateGroupParticipants is the account's phone adding, removing, promoting
// or demoting members (action "add", "remove", "promote", "demote").
func (s *Server) UpdateGroupParticipants(phone, groupJID, action string, participants []string) ([]ParticipantResult, error) {
	switch action {
	case "add", "remove", "promote", "demote":
	default:
		return nil, fmt.Errorf("action %q is none of add, remove, promote, demote", action)
	}
	a, err := s.lookupAccount(phone)
	if err != nil {
		return nil, err
	}
	chat, err := groupJIDFromString(groupJID)
	if err != nil {
		return nil, fmt.Errorf("no group %s", groupJID)
	}
	jids, err := parseUserJIDs(participants)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	g, err := s.groupLocked(chat)
	var results []participantResult
	if err == nil {
		results, err = s.changeParticipantsLocked(g, a, action, jids)
	}
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("phone %s: %s in %s: %w", a.Phone, action, chat, err)
	}
	change := g.participantsChange(action, results, nil)
	s.mu.Unlock()
	var removed []*account
	if action == "remove" {
		removed = changedAccounts(results)
	}
	if notify := s.ifChanged(g, a, change, removed); notify != nil {
		notify()
	}
	out := make([]ParticipantResult, len(results))
	for i, r := range results {
		out[i] = ParticipantResult{JID: r.jid.String(), Error: r.error}
	}
	return out, nil
}

// Groups lists the groups the account is in.
func (s *Server) Groups(phone string) ([]GroupInfo, error) {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []GroupInfo{}
	for _, g := range s.groups.byID {
		if g.member(a) != nil {
			out = append(out, g.info())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].JID < out[j].JID })
	return out, nil
}

// groupRoutes adds the groups part of the control API:
//
//	POST /api/accounts/{phone}/groups                      {"subject", "participants"} -> group
//	GET  /api/accounts/{phone}/groups                      groups the account is in
//	POST /api/accounts/{phone}/groups/{group}/participants {"action", "participants"} -> [{"jid", "error"}]
//	POST /api/accounts/{phone}/faults/forget-sender-keys   {} -> {}: the phone loses its sender keys
//	POST /api/accounts/{phone}/faults/forget-sessions      {} -> {}: the phone loses its 1:1 sessions (phoneretry.go)
//
// The phone sends to a group with POST /api/accounts/{phone}/send {"to": group JID}.
func (s *Server) groupRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/accounts/{phone}/groups", func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		var req struct {
			Subject      string   `json:"subject"`
			Participants []string `json:"participants"`
		}
		if err := readJSON(r, &req); err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		info, err := s.CreateGroup(r.PathValue("phone"), req.Subject, req.Participants)
		if err != nil {
			writeErr(w, groupAPIStatus(err), err)
			return
		}
		writeJSON(w, http.StatusOK, info)
	})
	mux.HandleFunc("POST /api/accounts/{phone}/faults/forget-sender-keys", func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		if err := s.ForgetSenderKeys(r.PathValue("phone")); err != nil {
			writeErr(w, http.StatusNotFound, err)
			return
		}
		writeJSON(w, http.StatusOK, struct{}{})
	})
	mux.HandleFunc("POST /api/accounts/{phone}/faults/forget-sessions", func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		if err := s.ForgetSessions(r.PathValue("phone")); err != nil {
			writeErr(w, http.StatusNotFound, err)
			return
		}
		writeJSON(w, http.StatusOK, struct{}{})
	})
	mux.HandleFunc("GET /api/accounts/{phone}/groups", func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		list, err := s.Groups(r.PathValue("phone"))
		if err != nil {
			writeErr(w, http.StatusNotFound, err)
			return
		}
		writeJSON(w, http.StatusOK, list)
	})
	mux.HandleFunc("POST /api/accounts/{phone}/groups/{group}/participants", func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		var req struct {
			Action       string   `json:"action"`
			Participants []string `json:"participants"`
		}
		if err := readJSON(r, &req); err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		res, err := s.UpdateGroupParticipants(r.PathValue("phone"), r.PathValue("group"), req.Action, req.Participants)
		if err != nil {
			writeErr(w, groupAPIStatus(err), err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
}

// groupAPIStatus is the HTTP status of a group error: the service's code
// when it has one (403 not a member, 401 not an admin, 404 no group), else
// 400.
func groupAPIStatus(err error) int {
	return failureOf(err).code
}
