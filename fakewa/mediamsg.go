//go:build !js

package fakewa

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
)

// Media messages of the simulated phones: they encrypt and upload what they
// send, and download, check and decrypt what they receive, as a client does
// (whatsmeow upload.go and download.go).

// MediaSpec is a media message for a phone to send.
type MediaSpec struct {
	// Type is image, video, audio, document or sticker.
	Type     string `json:"type"`
	Data     []byte `json:"data"` // base64 in JSON
	Mimetype string `json:"mimetype"`
	Caption  string `json:"caption,omitempty"`  // image, video, document
	FileName string `json:"fileName,omitempty"` // document
	Width    uint32 `json:"width,omitempty"`    // image, video, sticker
	Height   uint32 `json:"height,omitempty"`   // image, video, sticker
	Seconds  uint32 `json:"seconds,omitempty"`  // video, audio
	PTT      bool   `json:"ptt,omitempty"`      // audio: a voice note
}

// ReceivedMedia is a media message as a phone received it.
type ReceivedMedia struct {
	Type       string `json:"type"`
	Mimetype   string `json:"mimetype,omitempty"`
	Caption    string `json:"caption,omitempty"`
	FileName   string `json:"fileName,omitempty"`
	Size       uint64 `json:"size"`
	Width      uint32 `json:"width,omitempty"`
	Height     uint32 `json:"height,omitempty"`
	Seconds    uint32 `json:"seconds,omitempty"`
	PTT        bool   `json:"ptt,omitempty"`
	DirectPath string `json:"directPath"`
	Data       []byte `json:"data,omitempty"`  // the decrypted bytes (base64 in JSON)
	Error      string `json:"error,omitempty"` // why the download failed
}

// mediaKinds maps a message type to its key info string and upload type
// (stickers are uploaded as images: whatsmeow classToMediaType).
var mediaKinds = map[string]struct {
	keys    whatsmeow.MediaType
	mmsType string
}{
	"image":    {whatsmeow.MediaImage, "image"},
	"video":    {whatsmeow.MediaVideo, "video"},
	"audio":    {whatsmeow.MediaAudio, "audio"},
	"document": {whatsmeow.MediaDocument, "document"},
	"sticker":  {whatsmeow.MediaImage, "image"},
}

// SendMedia is the account's phone sending a media message to a user or a group
// (as SendMessage): it encrypts the bytes under a new media key, stores the blob on
// the media host and sends the message. It returns the message id and the
// blob's direct path.
func (s *Server) SendMedia(phone, to string, m MediaSpec) (id, directPath string, err error) {
	kind, ok := mediaKinds[m.Type]
	if !ok {
		return "", "", fmt.Errorf("media type %q is none of image, video, audio, document, sticker", m.Type)
	}
	if len(m.Data) == 0 {
		return "", "", fmt.Errorf("media has no bytes")
	}
	if len(m.Data) > mediaMaxBlobSize-32 {
		return "", "", fmt.Errorf("media of %d bytes exceeds the host's limit", len(m.Data))
	}
	if m.Mimetype == "" {
		return "", "", fmt.Errorf("media needs a mimetype")
	}
	enc, err := encryptMedia(m.Data, kind.keys)
	if err != nil {
		return "", "", err
	}
	directPath = s.storeBlob(kind.mmsType, enc.blob)
	msg := mediaMessage(m, enc, "https://"+s.mediaHosts()[0]+directPath+"&mms3=true", directPath)
	id, err = s.SendMessage(phone, to, msg) // to a user or a group
	return id, directPath, err
}

func mediaMessage(m MediaSpec, enc *encryptedMedia, url, directPath string) *waE2E.Message {
	now := proto.Int64(time.Now().Unix())
	opt := func(v uint32) *uint32 {
		if v == 0 {
			return nil
		}
		return proto.Uint32(v)
	}
	str := func(v string) *string {
		if v == "" {
			return nil
		}
		return proto.String(v)
	}
	switch m.Type {
	case "image":
		return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{
			URL: &url, DirectPath: &directPath, MediaKey: enc.mediaKey, FileSHA256: enc.fileSHA256, FileEncSHA256: enc.fileEncSHA256,
			FileLength: &enc.fileLength, Mimetype: &m.Mimetype, MediaKeyTimestamp: now, Caption: str(m.Caption),
			Width: opt(m.Width), Height: opt(m.Height),
		}}
	case "video":
		return &waE2E.Message{VideoMessage: &waE2E.VideoMessage{
			URL: &url, DirectPath: &directPath, MediaKey: enc.mediaKey, FileSHA256: enc.fileSHA256, FileEncSHA256: enc.fileEncSHA256,
			FileLength: &enc.fileLength, Mimetype: &m.Mimetype, MediaKeyTimestamp: now, Caption: str(m.Caption),
			Width: opt(m.Width), Height: opt(m.Height), Seconds: opt(m.Seconds),
		}}
	case "audio":
		return &waE2E.Message{AudioMessage: &waE2E.AudioMessage{
			URL: &url, DirectPath: &directPath, MediaKey: enc.mediaKey, FileSHA256: enc.fileSHA256, FileEncSHA256: enc.fileEncSHA256,
			FileLength: &enc.fileLength, Mimetype: &m.Mimetype, MediaKeyTimestamp: now, Seconds: opt(m.Seconds), PTT: proto.Bool(m.PTT),
		}}
	case "document":
		return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
			URL: &url, DirectPath: &directPath, MediaKey: enc.mediaKey, FileSHA256: enc.fileSHA256, FileEncSHA256: enc.fileEncSHA256,
			FileLength: &enc.fileLength, Mimetype: &m.Mimetype, MediaKeyTimestamp: now, Caption: str(m.Caption),
			FileName: str(m.FileName), Title: str(m.FileName),
		}}
	default: // sticker
		return &waE2E.Message{StickerMessage: &waE2E.StickerMessage{
			URL: &url, DirectPath: &directPath, MediaKey: enc.mediaKey, FileSHA256: enc.fileSHA256, FileEncSHA256: enc.fileEncSHA256,
			FileLength: &enc.fileLength, Mimetype: &m.Mimetype, MediaKeyTimestamp: now,
			Width: opt(m.Width), Height: opt(m.Height),
		}}
	}
}

// receiveMedia is a phone downloading the media of a message it received:
// nil if the message carries none.
func (s *Server) receiveMedia(msg *waE2E.Message) *ReceivedMedia {
	var r ReceivedMedia
	var dl whatsmeow.DownloadableMessage
	var length uint64
	switch {
	case msg.GetImageMessage() != nil:
		m := msg.GetImageMessage()
		dl, length = m, m.GetFileLength()
		r = ReceivedMedia{Type: "image", Mimetype: m.GetMimetype(), Caption: m.GetCaption(), Width: m.GetWidth(), Height: m.GetHeight()}
	case msg.GetVideoMessage() != nil:
		m := msg.GetVideoMessage()
		dl, length = m, m.GetFileLength()
		r = ReceivedMedia{Type: "video", Mimetype: m.GetMimetype(), Caption: m.GetCaption(), Width: m.GetWidth(), Height: m.GetHeight(), Seconds: m.GetSeconds()}
	case msg.GetAudioMessage() != nil:
		m := msg.GetAudioMessage()
		dl, length = m, m.GetFileLength()
		r = ReceivedMedia{Type: "audio", Mimetype: m.GetMimetype(), Seconds: m.GetSeconds(), PTT: m.GetPTT()}
	case msg.GetDocumentMessage() != nil:
		m := msg.GetDocumentMessage()
		dl, length = m, m.GetFileLength()
		r = ReceivedMedia{Type: "document", Mimetype: m.GetMimetype(), Caption: m.GetCaption(), FileName: m.GetFileName()}
	case msg.GetStickerMessage() != nil:
		m := msg.GetStickerMessage()
		dl, length = m, m.GetFileLength()
		r = ReceivedMedia{Type: "sticker", Mimetype: m.GetMimetype(), Width: m.GetWidth(), Height: m.GetHeight()}
	default:
		return nil
	}
	r.Size, r.DirectPath = length, dl.GetDirectPath()
	blob, err := s.media.fetchDirect(dl.GetDirectPath())
	if err == nil {
		r.Data, err = decryptMedia(blob, dl.GetMediaKey(), mediaKinds[r.Type].keys, dl.GetFileEncSHA256(), dl.GetFileSHA256(), int64(length))
	}
	if err != nil {
		r.Error = err.Error()
		s.log.Warnf("media: phone could not download %s %s: %v", r.Type, r.DirectPath, err)
	}
	return &r
}
