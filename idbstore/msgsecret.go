package idbstore

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/kv"
)

// Message secrets and privacy tokens. Both are looked up under the JID given
// and under its LID or phone-number twin from the stored LID map, exactly as
// sqlstore's subqueries on whatsmeow_lid_map do.

// altJID is sqlstore's CASE on a JID string: the PN twin of a LID, the LID
// twin of a PN (from the stored map, not the cache), else self if elseSelf.
func (c *Container) altJID(ctx context.Context, jid string, elseSelf bool) (string, bool, error) {
	var table, user, server string
	switch {
	case likeMatch(jid, "%@lid"):
		table, user, server = tLIDByLID, sqlReplace(jid, "@lid", ""), "@s.whatsapp.net"
	case likeMatch(jid, "%@s.whatsapp.net"):
		table, user, server = tLIDByPN, sqlReplace(jid, "@s.whatsapp.net", ""), "@lid"
	default:
		return jid, elseSelf, nil
	}
	v, err := c.e.get1(ctx, c.e.txnFrom(ctx), table, key(user))
	if err != nil || v == nil {
		return "", false, err
	}
	other, err := decodeLIDUser(table, key(user), v)
	if err != nil {
		return "", false, err
	}
	return other + server, true, nil
}

func (s *Store) msgSecretKey(chat, sender, id string) string { return s.k(chat, sender, id) }

func (s *Store) PutMessageSecrets(ctx context.Context, inserts []store.MessageSecretInsert) (err error) {
	defer s.c.reported(&err)
	if len(inserts) == 0 {
		return nil
	}
	// One backend read for all the ON CONFLICT checks below.
	ks := make([]string, len(inserts))
	for i, in := range inserts {
		ks[i] = s.msgSecretKey(jidText(in.Chat.ToNonAD()), jidText(in.Sender.ToNonAD()), in.ID)
	}
	if _, err := s.e.get(ctx, s.tx(ctx), tMsgSecret, ks); err != nil {
		return err
	}
	return s.e.doTxn(ctx, func(ctx context.Context) error {
		for _, in := range inserts {
			if err := s.PutMessageSecret(ctx, in.Chat, in.Sender, in.ID, in.Secret); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutMessageSecret keeps the first secret stored for a message (ON CONFLICT
// DO NOTHING).
func (s *Store) PutMessageSecret(ctx context.Context, chat, sender types.JID, id types.MessageID, secret []byte) (err error) {
	defer s.c.reported(&err)
	if secret == nil {
		return fmt.Errorf("%w: message secret %s/%s/%s: NULL key", ErrConstraint, chat, sender, id)
	}
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: put message secret %s: %w", id, err)
	}
	k := s.msgSecretKey(jidText(chat.ToNonAD()), jidText(sender.ToNonAD()), id)
	return s.e.doTxn(ctx, func(ctx context.Context) error {
		old, err := s.get(ctx, tMsgSecret, k)
		if err != nil || old != nil {
			return err
		}
		return s.e.write(ctx, kv.Op{Table: tMsgSecret, Key: k, Value: newEncoder(len(secret)).bytes(secret).done()})
	})
}

// GetMessageSecret finds the secret under the chat and sender as given or as
// their LID/PN twins; with several matches, the first in (chat, sender) order.
func (s *Store) GetMessageSecret(ctx context.Context, chat, sender types.JID, id types.MessageID) (_ []byte, _ types.JID, err error) {
	defer s.c.reported(&err)
	chats, err := s.c.jidCandidates(ctx, jidText(chat.ToNonAD()))
	if err != nil {
		return nil, types.JID{}, err
	}
	senders, err := s.c.jidCandidates(ctx, jidText(sender.ToNonAD()))
	if err != nil {
		return nil, types.JID{}, err
	}
	type cand struct{ chat, sender string }
	var cands []cand
	for _, c := range chats {
		for _, sn := range senders {
			cands = append(cands, cand{c, sn})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].chat != cands[j].chat {
			return cands[i].chat < cands[j].chat
		}
		return cands[i].sender < cands[j].sender
	})
	ks := make([]string, len(cands))
	for i, c := range cands {
		ks[i] = s.msgSecretKey(c.chat, c.sender, id)
	}
	vals, err := s.e.get(ctx, s.tx(ctx), tMsgSecret, ks)
	if err != nil {
		return nil, types.JID{}, err
	}
	for i, v := range vals {
		if v == nil {
			continue
		}
		secret, err := decodeMsgSecret(ks[i], v)
		if err != nil {
			return nil, types.JID{}, err
		}
		var realSender types.JID
		if err = realSender.Scan(cands[i].sender); err != nil {
			return nil, types.JID{}, fmt.Errorf("idbstore: message secret %s: sender %q: %w", id, cands[i].sender, err)
		}
		return secret, realSender, nil
	}
	return nil, types.JID{}, nil
}

// jidCandidates is jid plus its stored twin, if any.
func (c *Container) jidCandidates(ctx context.Context, jid string) ([]string, error) {
	alt, ok, err := c.altJID(ctx, jid, false)
	if err != nil {
		return nil, err
	}
	if ok && alt != jid {
		return []string{jid, alt}, nil
	}
	return []string{jid}, nil
}

func (s *Store) PutPrivacyTokens(ctx context.Context, tokens ...store.PrivacyToken) (err error) {
	defer s.c.reported(&err)
	if len(tokens) == 0 {
		// sqlstore builds an INSERT without VALUES here, which the database refuses.
		return fmt.Errorf("%w: PutPrivacyTokens with no tokens", ErrConstraint)
	}
	ops := make([]kv.Op, len(tokens))
	for i, t := range tokens {
		if t.Token == nil {
			return fmt.Errorf("%w: privacy token for %s: NULL token", ErrConstraint, t.User)
		}
		ops[i] = kv.Op{
			Table: tPrivacyToken,
			Key:   s.k(t.User.ToNonAD().String()),
			Value: EncodePrivacyToken(t.Timestamp.Unix(), t.Token),
		}
	}
	return s.e.write(ctx, ops...)
}

// GetPrivacyToken returns the newest token stored for user or its LID/PN twin.
func (s *Store) GetPrivacyToken(ctx context.Context, user types.JID) (_ *store.PrivacyToken, err error) {
	defer s.c.reported(&err)
	nonAD := user.ToNonAD()
	self := jidText(nonAD)
	cands := []string{self}
	alt, ok, err := s.c.altJID(ctx, self, true)
	if err != nil {
		return nil, err
	}
	if ok && alt != self {
		cands = append(cands, alt)
	}
	sort.Strings(cands)
	ks := make([]string, len(cands))
	for i, c := range cands {
		ks[i] = s.k(c)
	}
	vals, err := s.e.get(ctx, s.tx(ctx), tPrivacyToken, ks)
	if err != nil {
		return nil, err
	}
	var best *store.PrivacyToken
	var bestTS int64
	for i, v := range vals {
		if v == nil {
			continue
		}
		ts, token, err := decodePrivacyToken(ks[i], v)
		if err != nil {
			return nil, err
		}
		if best == nil || ts > bestTS {
			best = &store.PrivacyToken{User: nonAD, Token: token, Timestamp: time.Unix(ts, 0)}
			bestTS = ts
		}
	}
	return best, nil
}

func decodeMsgSecret(k string, v []byte) ([]byte, error) {
	d := newDecoder(v)
	secret := d.bytes()
	return secret, d.finish(tMsgSecret, k)
}

func decodePrivacyToken(k string, v []byte) (ts int64, token []byte, err error) {
	d := newDecoder(v)
	ts = d.varint()
	token = d.bytes()
	return ts, token, d.finish(tPrivacyToken, k)
}
