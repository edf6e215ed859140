//go:build !js

package core

import (
	"encoding/json"
	"testing"
)

// The page's field names of the history, contacts, chats and media payloads
// (wasmeow.d.ts types them).
func TestSyncAndMediaPayloads(t *testing.T) {
	yes, no, end := true, false, int64(-1)
	for _, c := range []struct {
		event Event
		want  string
	}{
		{HistorySync{SyncType: "recent", ChunkOrder: 1, Progress: 100, Conversations: []HistoryConversation{{ID: "1@s.whatsapp.net", Messages: []Message{}}}},
			`{"syncType":"recent","chunkOrder":1,"progress":100,"conversations":[{"id":"1@s.whatsapp.net","unreadCount":0,"messages":[]}]}`},
		{ContactsUpdate{Contacts: []ContactUpdate{{JID: "1@s.whatsapp.net", FullName: strPtr("Ann Lee"), PushName: strPtr("Ann")}}},
			`{"contacts":[{"jid":"1@s.whatsapp.net","fullName":"Ann Lee","pushName":"Ann"}]}`},
		{ChatsUpdate{Chats: []ChatUpdate{{JID: "c", Muted: &yes, MuteEnd: &end, Archived: &no}}},
			`{"chats":[{"jid":"c","muted":true,"muteEndTime":-1,"archived":false}]}`},
		{Message{ID: "i", Media: &Media{Type: "image", Mimetype: "image/png", Size: 3, DirectPath: "/v/x", MediaKey: []byte{1}, FileSHA256: []byte{2}, FileEncSHA256: []byte{3}}},
			`{"id":"i","chat":"","chatAlt":null,"sender":"","senderAlt":null,"addressingMode":"","fromMe":false,"redelivered":false,"isGroup":false,"pushName":"","text":"","time":0,"type":"","key":{"remoteJid":"","fromMe":false,"id":""},"raw":null,` +
				`"media":{"type":"image","mimetype":"image/png","size":3,"directPath":"/v/x","mediaKey":"AQ==","fileSha256":"Ag==","fileEncSha256":"Aw=="}}`},
	} {
		got, err := json.Marshal(c.event)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %s (%v), want %s", c.event.EventName(), got, err, c.want)
		}
	}
}
