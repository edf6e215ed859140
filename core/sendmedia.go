package core

import (
	"context"
	"encoding/json"
	"unicode/utf8"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"
)

// Sending media: the bytes are encrypted under a new media key and uploaded
// to a media host by whatsmeow's Upload (through the media proxy when there
// is one, mediahttp.go), and the message carries the key and hashes the
// recipient needs (whatsmeow upload.go; the fields as in the message
// examples of its docs).

// MediaContent is one image, video, audio, document or sticker to send.
type MediaContent struct {
	Type     string // image, video, audio, document, sticker
	Data     []byte
	Mimetype string // "" for the type's usual one
	Caption  string // image, video, document
	FileName string // document
	PTT      bool   // audio: a voice note
	Width    uint32 // image, video, sticker
	Height   uint32
	Seconds  uint32 // video, audio
}

// MaxMediaBytes is the largest media sendMessage uploads: the
// maxContentLengthBytes the service's media_conn announces (100 MiB).
const MaxMediaBytes = 100 << 20

// mediaKinds: each type's upload key info (stickers are uploaded as images,
// as whatsmeow's classToMediaType says) and usual mimetype.
var mediaKinds = map[string]struct {
	upload   whatsmeow.MediaType
	mimetype string
}{
	"image":    {whatsmeow.MediaImage, "image/jpeg"},
	"video":    {whatsmeow.MediaVideo, "video/mp4"},
	"audio":    {whatsmeow.MediaAudio, "audio/ogg; codecs=opus"},
	"document": {whatsmeow.MediaDocument, "application/octet-stream"},
	"sticker":  {whatsmeow.MediaImage, "image/webp"},
}

// check refuses what cannot be sent, before anything is uploaded.
func (m *MediaContent) check() error {
	kind, ok := mediaKinds[m.Type]
	switch {
	case !ok:
		return Errorf(CodeInvalidOption, "sendMessage(jid, content): media type must be image, video, audio, document or sticker, got %q", m.Type)
	case len(m.Data) == 0:
		return Errorf(CodeInvalidOption, "sendMessage(jid, content): %s must be a non-empty Uint8Array or Blob", m.Type)
	case len(m.Data) > MaxMediaBytes:
		return Errorf(CodeTooLarge, "sendMessage(jid, content): the %s is %d bytes; the media hosts take at most %d", m.Type, len(m.Data), MaxMediaBytes)
	case m.Caption != "" && (m.Type == "audio" || m.Type == "sticker"):
		return Errorf(CodeInvalidOption, "sendMessage(jid, content): a %s has no caption", m.Type)
	case m.FileName != "" && m.Type != "document":
		return Errorf(CodeInvalidOption, "sendMessage(jid, content): fileName is for documents, not a %s", m.Type)
	case m.PTT && m.Type != "audio":
		return Errorf(CodeInvalidOption, "sendMessage(jid, content): ptt is for audio, not a %s", m.Type)
	case len(m.Caption) > 4*maxTextRunes || utf8.RuneCountInString(m.Caption) > maxTextRunes:
		return Errorf(CodeTooLarge, "sendMessage(jid, content): the caption has more than %d characters", maxTextRunes)
	}
	if m.Mimetype == "" {
		m.Mimetype = kind.mimetype
	}
	return nil
}

func init() { buildMedia = buildMediaMessage }

// buildMediaMessage is sendMessage's media part (the buildMedia hook of
// sendmessage.go): the content decoded and checked, the file uploaded,
// and the message that carries its key and hashes.
func buildMediaMessage(ctx context.Context, cli *whatsmeow.Client, _ types.JID, kind string, fields map[string]json.RawMessage) (*waE2E.Message, error) {
	m, err := decodeMediaContent(kind, fields)
	if err != nil {
		return nil, err
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	up, err := cli.Upload(ctx, m.Data, mediaKinds[m.Type].upload)
	if err != nil {
		return nil, Errorf(CodeMedia, "sendMessage(jid, content): uploading the %s (%d bytes) failed: %w", m.Type, len(m.Data), err)
	}
	return m.message(up), nil
}

// decodeMediaContent reads {<kind>: base64, mimetype, caption, fileName,
// ptt, width, height, seconds} (wasmeow.js sends the file as base64).
func decodeMediaContent(kind string, fields map[string]json.RawMessage) (*MediaContent, error) {
	m := &MediaContent{Type: kind}
	targets := map[string]any{kind: &m.Data, "mimetype": &m.Mimetype, "caption": &m.Caption, "fileName": &m.FileName,
		"ptt": &m.PTT, "width": &m.Width, "height": &m.Height, "seconds": &m.Seconds}
	for k, raw := range fields {
		dst, ok := targets[k]
		if !ok {
			return nil, contentErr("unknown key %q for a %s message (known: %s, mimetype, caption, fileName, ptt, width, height, seconds)", k, kind, kind)
		}
		if err := decodeStrict(raw, dst, k); err != nil {
			if k == kind {
				return nil, contentErr("%s must be a Uint8Array or a Blob (base64 in JSON)", kind)
			}
			return nil, err
		}
	}
	return m, nil
}

// message is the media message of an upload.
func (m *MediaContent) message(up whatsmeow.UploadResponse) *waE2E.Message {
	url, path, size, mime := proto.String(up.URL), proto.String(up.DirectPath), proto.Uint64(up.FileLength), proto.String(m.Mimetype)
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return proto.String(s)
	}
	opt32 := func(n uint32) *uint32 {
		if n == 0 {
			return nil
		}
		return proto.Uint32(n)
	}
	switch m.Type {
	case "image":
		return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{URL: url, DirectPath: path, FileLength: size, Mimetype: mime,
			MediaKey: up.MediaKey, FileSHA256: up.FileSHA256, FileEncSHA256: up.FileEncSHA256,
			Caption: opt(m.Caption), Width: opt32(m.Width), Height: opt32(m.Height)}}
	case "video":
		return &waE2E.Message{VideoMessage: &waE2E.VideoMessage{URL: url, DirectPath: path, FileLength: size, Mimetype: mime,
			MediaKey: up.MediaKey, FileSHA256: up.FileSHA256, FileEncSHA256: up.FileEncSHA256,
			Caption: opt(m.Caption), Width: opt32(m.Width), Height: opt32(m.Height), Seconds: opt32(m.Seconds)}}
	case "audio":
		return &waE2E.Message{AudioMessage: &waE2E.AudioMessage{URL: url, DirectPath: path, FileLength: size, Mimetype: mime,
			MediaKey: up.MediaKey, FileSHA256: up.FileSHA256, FileEncSHA256: up.FileEncSHA256,
			Seconds: opt32(m.Seconds), PTT: proto.Bool(m.PTT)}}
	case "document":
		return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{URL: url, DirectPath: path, FileLength: size, Mimetype: mime,
			MediaKey: up.MediaKey, FileSHA256: up.FileSHA256, FileEncSHA256: up.FileEncSHA256,
			Caption: opt(m.Caption), FileName: opt(m.FileName)}}
	}
	return &waE2E.Message{StickerMessage: &waE2E.StickerMessage{URL: url, DirectPath: path, FileLength: size, Mimetype: mime,
		MediaKey: up.MediaKey, FileSHA256: up.FileSHA256, FileEncSHA256: up.FileEncSHA256,
		Width: opt32(m.Width), Height: opt32(m.Height)}}
}
