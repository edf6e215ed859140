package core

import (
	"context"
	"encoding/json"
	"errors"
	"sort"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
)

// Contact look-ups: who is on WhatsApp, their status, picture and devices,
// and the contacts the session's store holds (from the phone's app state
// and push names).

// OnWhatsApp is one answer of isOnWhatsApp.
type OnWhatsApp struct {
	Query string `json:"query"`
	JID   string `json:"jid"`
	IsIn  bool   `json:"isIn"`
	// VerifiedName is a business's verified name, else omitted.
	VerifiedName string `json:"verifiedName,omitempty"`
}

// UserInfo is one answer of getUserInfo.
type UserInfo struct {
	JID          string   `json:"jid"`
	LID          *string  `json:"lid"`
	Status       string   `json:"status"`
	PictureID    string   `json:"pictureId"`
	Devices      []string `json:"devices"`
	VerifiedName string   `json:"verifiedName,omitempty"`
}

// ContactEntry is one contact of the store.
type ContactEntry struct {
	JID          string `json:"jid"`
	FirstName    string `json:"firstName"`
	FullName     string `json:"fullName"`
	PushName     string `json:"pushName"`
	BusinessName string `json:"businessName"`
}

// userJIDs parses a list of users' JIDs (or phone numbers).
func userJIDs(list []string, sig string) ([]types.JID, error) {
	out := make([]types.JID, 0, len(list))
	for _, s := range list {
		j, err := parseJID(s)
		if err != nil {
			return nil, err
		}
		if j.Server != types.DefaultUserServer && j.Server != types.HiddenUserServer {
			return nil, Errorf(CodeInvalidJID, "%s: %s is not a user", sig, j)
		}
		out = append(out, j.ToNonAD())
	}
	return out, nil
}

// IsOnWhatsApp asks which phone numbers have an account.
func (c *Client) IsOnWhatsApp(ctx context.Context, phones []string) ([]OnWhatsApp, error) {
	cli, err := c.readyToSend("isOnWhatsApp")
	if err != nil {
		return nil, err
	}
	query := make([]string, len(phones))
	for i, p := range phones {
		j, err := parseJID(p)
		if err != nil || j.Server != types.DefaultUserServer {
			return nil, Errorf(CodeInvalidPhone, "isOnWhatsApp(phones): %q is not a phone number", p)
		}
		query[i] = "+" + j.User
	}
	res, err := cli.IsOnWhatsApp(ctx, query)
	if err != nil {
		return nil, Errorf(CodeSend, "isOnWhatsApp: %w", err)
	}
	out := make([]OnWhatsApp, 0, len(res))
	for _, r := range res {
		o := OnWhatsApp{Query: r.Query, JID: r.JID.String(), IsIn: r.IsIn}
		if r.VerifiedName != nil && r.VerifiedName.Details != nil {
			o.VerifiedName = r.VerifiedName.Details.GetVerifiedName()
		}
		out = append(out, o)
	}
	return out, nil
}

// GetUserInfo gives the status, picture id, devices and LID of users.
func (c *Client) GetUserInfo(ctx context.Context, jids []string) ([]UserInfo, error) {
	cli, err := c.readyToSend("getUserInfo")
	if err != nil {
		return nil, err
	}
	users, err := userJIDs(jids, "getUserInfo(jids)")
	if err != nil {
		return nil, err
	}
	res, err := cli.GetUserInfo(ctx, users)
	if err != nil {
		return nil, Errorf(CodeSend, "getUserInfo: %w", err)
	}
	out := make([]UserInfo, 0, len(res))
	for j, info := range res {
		u := UserInfo{JID: j.String(), LID: jidOrNil(info.LID), Status: info.Status, PictureID: info.PictureID, Devices: []string{}}
		for _, d := range info.Devices {
			u.Devices = append(u.Devices, d.String())
		}
		if info.VerifiedName != nil && info.VerifiedName.Details != nil {
			u.VerifiedName = info.VerifiedName.Details.GetVerifiedName()
		}
		out = append(out, u)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].JID < out[b].JID })
	return out, nil
}

// GetProfilePicture is the URL of a user's or group's full-size picture,
// nil when there is none or it is hidden from us.
func (c *Client) GetProfilePicture(ctx context.Context, jid string) (*string, error) {
	cli, err := c.readyToSend("getProfilePicture")
	if err != nil {
		return nil, err
	}
	j, err := parseJID(jid)
	if err != nil {
		return nil, err
	}
	info, err := cli.GetProfilePictureInfo(ctx, j.ToNonAD(), &whatsmeow.GetProfilePictureParams{})
	switch {
	case errors.Is(err, whatsmeow.ErrProfilePictureNotSet), errors.Is(err, whatsmeow.ErrProfilePictureUnauthorized):
		return nil, nil
	case err != nil:
		return nil, Errorf(CodeSend, "getProfilePicture of %s: %w", j, err)
	case info == nil || info.URL == "":
		return nil, nil
	}
	return strPtr(info.URL), nil
}

// GetContacts lists the contacts the session's store holds.
func (c *Client) GetContacts(ctx context.Context) ([]ContactEntry, error) {
	cli, err := c.current()
	if err != nil {
		return nil, err
	}
	if cli == nil || cli.Store.ID == nil {
		return nil, Errorf(CodeNotLoggedIn, "getContacts: not logged in")
	}
	all, err := cli.Store.Contacts.GetAllContacts(ctx)
	if err != nil {
		return nil, WithCode(CodeStoreFailed, err)
	}
	out := make([]ContactEntry, 0, len(all))
	for j, ci := range all {
		out = append(out, ContactEntry{JID: j.String(), FirstName: ci.FirstName, FullName: ci.FullName, PushName: ci.PushName, BusinessName: ci.BusinessName})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].JID < out[b].JID })
	return out, nil
}

func init() {
	register("isOnWhatsApp", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		phones, err := stringsArg(args, 0, "isOnWhatsApp(phones)", "phones")
		if err != nil {
			return nil, err
		}
		return c.IsOnWhatsApp(ctx, phones)
	})
	register("getUserInfo", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		jids, err := stringsArg(args, 0, "getUserInfo(jids)", "jids")
		if err != nil {
			return nil, err
		}
		return c.GetUserInfo(ctx, jids)
	})
	register("getProfilePicture", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		jid, err := jidArg(args, 0, "getProfilePicture(jid)", "jid")
		if err != nil {
			return nil, err
		}
		return c.GetProfilePicture(ctx, jid)
	})
	register("getContacts", func(c *Client, ctx context.Context, _ []json.RawMessage) (any, error) {
		return c.GetContacts(ctx)
	})
}
