// Package pollvote encrypts and decrypts poll votes as WhatsApp's clients
// do. A vote (waE2E.PollVoteMessage: the SHA-256 of each chosen option's
// name) travels AES-GCM encrypted in a PollUpdateMessage under a key derived
// from the poll's message secret (its MessageContextInfo.MessageSecret):
// HKDF-SHA256 of the secret, no salt, info = poll id || poll author ||
// voter || "Poll Vote", 32 bytes; additional data = poll id || 0x00 ||
// voter; a 12-byte IV. Author and voter are user JIDs without device, in
// the form the chat addresses them (LID or phone number). Sources: whatsmeow
// msgsecret.go generateMsgSecretKey, EncryptPollVote, DecryptPollVote,
// HashPollOptions; Baileys 7 Utils/process-message.ts decryptPollVote.
package pollvote

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/gcmutil"
	"go.mau.fi/whatsmeow/util/hkdfutil"
	"google.golang.org/protobuf/proto"
)

const useCase = "Poll Vote"

func key(secret []byte, pollID string, author, voter types.JID) (k, ad []byte) {
	a, v := author.ToNonAD().String(), voter.ToNonAD().String()
	info := []byte(pollID + a + v + useCase)
	return hkdfutil.SHA256(secret, nil, info, 32), []byte(pollID + "\x00" + v)
}

// Hash is an option's hash as a vote carries it.
func Hash(option string) []byte {
	h := sha256.Sum256([]byte(option))
	return h[:]
}

// Encrypt is voter's vote for options in the poll pollID by author.
func Encrypt(secret []byte, pollID string, author, voter types.JID, options []string) (*waE2E.PollEncValue, error) {
	vote := &waE2E.PollVoteMessage{}
	for _, o := range options {
		vote.SelectedOptions = append(vote.SelectedOptions, Hash(o))
	}
	plain, err := proto.Marshal(vote)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, 12)
	if _, err = rand.Read(iv); err != nil {
		return nil, err
	}
	k, ad := key(secret, pollID, author, voter)
	ct, err := gcmutil.Encrypt(k, iv, plain, ad)
	if err != nil {
		return nil, err
	}
	return &waE2E.PollEncValue{EncPayload: ct, EncIV: iv}, nil
}

// Decrypt opens voter's vote in the poll pollID by author; it returns the
// selected option hashes.
func Decrypt(secret []byte, pollID string, author, voter types.JID, enc *waE2E.PollEncValue) ([][]byte, error) {
	if len(enc.GetEncIV()) != 12 {
		return nil, fmt.Errorf("vote IV is %d bytes, want 12", len(enc.GetEncIV()))
	}
	k, ad := key(secret, pollID, author, voter)
	plain, err := gcmutil.Decrypt(k, enc.GetEncIV(), enc.GetEncPayload(), ad)
	if err != nil {
		return nil, fmt.Errorf("decrypting the vote: %w", err)
	}
	var vote waE2E.PollVoteMessage
	if err = proto.Unmarshal(plain, &vote); err != nil {
		return nil, fmt.Errorf("decoding the vote: %w", err)
	}
	return vote.GetSelectedOptions(), nil
}

// Names maps selected hashes to the poll's option names; hashes no option
// has are left out.
func Names(options []string, selected [][]byte) []string {
	byHash := make(map[[32]byte]string, len(options))
	for _, o := range options {
		byHash[sha256.Sum256([]byte(o))] = o
	}
	names := []string{}
	for _, h := range selected {
		if len(h) == 32 {
			if n, ok := byHash[[32]byte(h)]; ok {
				names = append(names, n)
			}
		}
	}
	return names
}
