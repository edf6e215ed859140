package idbstore

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/kv"
)

type chatSettingsRecord struct {
	mutedUntil       int64 // -1 forever, 0 not muted, else Unix seconds
	pinned, archived bool
}

func (s *Store) updateChatSettings(ctx context.Context, chat types.JID, fn func(*chatSettingsRecord)) error {
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: put chat settings %s: %w", chat, err)
	}
	k := s.k(jidText(chat))
	return s.e.doTxn(ctx, func(ctx context.Context) error {
		r, _, err := s.getChatSettings(ctx, k)
		if err != nil {
			return err
		}
		fn(&r)
		v := newEncoder(12).varint(r.mutedUntil).boolean(r.pinned).boolean(r.archived).done()
		return s.e.write(ctx, kv.Op{Table: tChatSettings, Key: k, Value: v})
	})
}

func (s *Store) getChatSettings(ctx context.Context, k string) (r chatSettingsRecord, found bool, err error) {
	v, err := s.get(ctx, tChatSettings, k)
	if err != nil || v == nil {
		return r, false, err
	}
	r, err = decodeChatSettings(k, v)
	return r, true, err
}

func decodeChatSettings(k string, v []byte) (r chatSettingsRecord, err error) {
	d := newDecoder(v)
	r.mutedUntil = d.varint()
	r.pinned = d.boolean()
	r.archived = d.boolean()
	return r, d.finish(tChatSettings, k)
}

func (s *Store) PutMutedUntil(ctx context.Context, chat types.JID, mutedUntil time.Time) (err error) {
	defer s.c.reported(&err)
	var val int64
	if mutedUntil == store.MutedForever {
		val = -1
	} else if !mutedUntil.IsZero() {
		val = mutedUntil.Unix()
	}
	return s.updateChatSettings(ctx, chat, func(r *chatSettingsRecord) { r.mutedUntil = val })
}

func (s *Store) PutPinned(ctx context.Context, chat types.JID, pinned bool) (err error) {
	defer s.c.reported(&err)
	return s.updateChatSettings(ctx, chat, func(r *chatSettingsRecord) { r.pinned = pinned })
}

func (s *Store) PutArchived(ctx context.Context, chat types.JID, archived bool) (err error) {
	defer s.c.reported(&err)
	return s.updateChatSettings(ctx, chat, func(r *chatSettingsRecord) { r.archived = archived })
}

func (s *Store) GetChatSettings(ctx context.Context, chat types.JID) (settings types.LocalChatSettings, err error) {
	defer s.c.reported(&err)
	r, found, err := s.getChatSettings(ctx, s.k(jidText(chat)))
	if err != nil {
		return settings, err
	}
	settings.Found = found
	settings.Pinned = r.pinned
	settings.Archived = r.archived
	if r.mutedUntil < 0 {
		settings.MutedUntil = store.MutedForever
	} else if r.mutedUntil > 0 {
		settings.MutedUntil = time.Unix(r.mutedUntil, 0)
	}
	return settings, nil
}
