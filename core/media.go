package core

import (
	"context"
	"errors"
	"fmt"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"
)

// Media of messages: the descriptor a message event carries, and
// downloadMedia, which gives the decrypted bytes back (whatsmeow checks the
// encrypted blob's SHA-256, its HMAC and the plaintext's SHA-256).

// mediaOf describes the media of m, nil for a message without media.
func mediaOf(m *waE2E.Message) *Media {
	switch {
	case m.GetImageMessage() != nil:
		x := m.GetImageMessage()
		return &Media{Type: "image", Mimetype: x.GetMimetype(), Size: x.GetFileLength(), Caption: x.GetCaption(),
			Width: x.GetWidth(), Height: x.GetHeight(), URL: x.GetURL(), DirectPath: x.GetDirectPath(),
			MediaKey: x.GetMediaKey(), FileSHA256: x.GetFileSHA256(), FileEncSHA256: x.GetFileEncSHA256()}
	case m.GetVideoMessage() != nil:
		x := m.GetVideoMessage()
		return &Media{Type: "video", Mimetype: x.GetMimetype(), Size: x.GetFileLength(), Caption: x.GetCaption(),
			Width: x.GetWidth(), Height: x.GetHeight(), Seconds: x.GetSeconds(), URL: x.GetURL(), DirectPath: x.GetDirectPath(),
			MediaKey: x.GetMediaKey(), FileSHA256: x.GetFileSHA256(), FileEncSHA256: x.GetFileEncSHA256()}
	case m.GetAudioMessage() != nil:
		x := m.GetAudioMessage()
		return &Media{Type: "audio", Mimetype: x.GetMimetype(), Size: x.GetFileLength(), Seconds: x.GetSeconds(), PTT: x.GetPTT(),
			URL: x.GetURL(), DirectPath: x.GetDirectPath(),
			MediaKey: x.GetMediaKey(), FileSHA256: x.GetFileSHA256(), FileEncSHA256: x.GetFileEncSHA256()}
	case m.GetDocumentMessage() != nil:
		x := m.GetDocumentMessage()
		return &Media{Type: "document", Mimetype: x.GetMimetype(), Size: x.GetFileLength(), Caption: x.GetCaption(), FileName: x.GetFileName(),
			URL: x.GetURL(), DirectPath: x.GetDirectPath(),
			MediaKey: x.GetMediaKey(), FileSHA256: x.GetFileSHA256(), FileEncSHA256: x.GetFileEncSHA256()}
	case m.GetStickerMessage() != nil:
		x := m.GetStickerMessage()
		return &Media{Type: "sticker", Mimetype: x.GetMimetype(), Size: x.GetFileLength(),
			Width: x.GetWidth(), Height: x.GetHeight(), URL: x.GetURL(), DirectPath: x.GetDirectPath(),
			MediaKey: x.GetMediaKey(), FileSHA256: x.GetFileSHA256(), FileEncSHA256: x.GetFileEncSHA256()}
	}
	return nil
}

// downloadable turns a descriptor back into the message whatsmeow
// downloads (its type gives the key-derivation info and the mms type).
func (m *Media) downloadable() (whatsmeow.DownloadableMessage, error) {
	url, path, size := proto.String(m.URL), proto.String(m.DirectPath), proto.Uint64(m.Size)
	switch m.Type {
	case "image":
		return &waE2E.ImageMessage{URL: url, DirectPath: path, FileLength: size, MediaKey: m.MediaKey, FileSHA256: m.FileSHA256, FileEncSHA256: m.FileEncSHA256}, nil
	case "video":
		return &waE2E.VideoMessage{URL: url, DirectPath: path, FileLength: size, MediaKey: m.MediaKey, FileSHA256: m.FileSHA256, FileEncSHA256: m.FileEncSHA256}, nil
	case "audio":
		return &waE2E.AudioMessage{URL: url, DirectPath: path, FileLength: size, MediaKey: m.MediaKey, FileSHA256: m.FileSHA256, FileEncSHA256: m.FileEncSHA256}, nil
	case "document":
		return &waE2E.DocumentMessage{URL: url, DirectPath: path, FileLength: size, MediaKey: m.MediaKey, FileSHA256: m.FileSHA256, FileEncSHA256: m.FileEncSHA256}, nil
	case "sticker":
		return &waE2E.StickerMessage{URL: url, DirectPath: path, FileLength: size, MediaKey: m.MediaKey, FileSHA256: m.FileSHA256, FileEncSHA256: m.FileEncSHA256}, nil
	}
	return nil, Errorf(CodeInvalidOption, "downloadMedia: media.type must be image, video, audio, document or sticker, got %q", m.Type)
}

// DownloadMedia downloads and decrypts the media a message event described.
func (c *Client) DownloadMedia(ctx context.Context, m *Media) ([]byte, error) {
	cli, err := c.current()
	if err != nil {
		return nil, err
	}
	if cli == nil || cli.Store.ID == nil {
		return nil, Errorf(CodeNotLoggedIn, "downloadMedia: not logged in")
	}
	if m == nil {
		return nil, Errorf(CodeInvalidOption, "downloadMedia(message): the message has no media")
	}
	if len(m.MediaKey) != 32 || len(m.FileSHA256) != 32 || len(m.FileEncSHA256) != 32 || (m.URL == "" && m.DirectPath == "") {
		return nil, Errorf(CodeInvalidOption, "downloadMedia(message): media needs url or directPath, and a 32-byte mediaKey, fileSha256 and fileEncSha256 (as the message event gave them)")
	}
	msg, err := m.downloadable()
	if err != nil {
		return nil, err
	}
	data, err := cli.Download(ctx, msg)
	if err != nil {
		return nil, Errorf(CodeMedia, "downloadMedia of %s %s: %s: %w", m.Type, m.DirectPath, mediaFailure(err), err)
	}
	return data, nil
}

// mediaFailure says in a few words why a download failed.
func mediaFailure(err error) string {
	switch {
	case errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith404), errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith410):
		return "the blob is gone from the media host (expired or deleted)"
	case errors.Is(err, whatsmeow.ErrInvalidMediaEncSHA256), errors.Is(err, whatsmeow.ErrInvalidMediaHMAC), errors.Is(err, whatsmeow.ErrInvalidMediaSHA256), errors.Is(err, whatsmeow.ErrFileLengthMismatch):
		return "the blob failed its integrity checks"
	}
	var status whatsmeow.DownloadHTTPError
	if errors.As(err, &status) {
		return fmt.Sprintf("the media host answered HTTP %d", status.StatusCode)
	}
	return "the media host could not be reached or read"
}
