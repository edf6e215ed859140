package core

import (
	"unicode/utf8"
)

// maxTextRunes is the longest text sendText accepts: what WhatsApp's own
// clients allow in one message (65,536 characters). The hard limit is lower
// down: the encrypted message is copied once per recipient device into one
// Noise frame, and a frame holds at most 16 MiB (3-byte length). A send over
// that fails only after the frame was encrypted, which consumes a Noise
// counter the server never saw: the socket is then unusable and closed. A
// 64 Ki-character text (at most 256 KiB of UTF-8) fits comfortably in a frame
// even for dozens of devices, and refusing it here keeps the socket intact.
const maxTextRunes = 65536

// checkOutgoingText is sendText's size check, run before anything is
// encrypted or written.
func checkOutgoingText(text string) error {
	// Counting runes stops being cheap only far beyond the limit: check the
	// byte length first (a rune is at most 4 bytes).
	if len(text) > 4*maxTextRunes || utf8.RuneCountInString(text) > maxTextRunes {
		return Errorf(CodeTooLarge, "sendText: the text is %d bytes of UTF-8 (%d characters); at most %d characters fit in one message, so nothing was sent",
			len(text), utf8.RuneCountInString(text), maxTextRunes)
	}
	return nil
}
