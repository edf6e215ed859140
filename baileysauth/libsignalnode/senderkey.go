package libsignalnode

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.mau.fi/libsignal/groups/ratchet"
	groupRecord "go.mau.fi/libsignal/groups/state/record"
)

// Baileys' sender key state (lib/Signal/Group/sender-key-state.js
// getStructure), one element of the record's JSON array.
type nodeSenderKeyState struct {
	SenderKeyID    uint32 `json:"senderKeyId"`
	SenderChainKey struct {
		Iteration uint32     `json:"iteration"`
		Seed      nodeBuffer `json:"seed"`
	} `json:"senderChainKey"`
	SenderSigningKey struct {
		Public  nodeBuffer `json:"public"`
		Private nodeBuffer `json:"private"`
	} `json:"senderSigningKey"`
	SenderMessageKeys []nodeSenderMessageKey `json:"senderMessageKeys"`
}

type nodeSenderMessageKey struct {
	Iteration uint32     `json:"iteration"`
	Seed      nodeBuffer `json:"seed"`
}

// SenderKeyToWhatsmeow converts a Baileys sender key record (the UTF-8 JSON
// Baileys stores as the value's bytes) into whatsmeow's serialized sender
// key record. Nothing is lost: both keep each message key's seed.
func SenderKeyToWhatsmeow(nodeJSON []byte) ([]byte, error) {
	var states []nodeSenderKeyState
	if err := json.Unmarshal(nodeJSON, &states); err != nil {
		return nil, fmt.Errorf("not a Baileys sender key record: %w", err)
	}
	out := &groupRecord.SenderKeyStructure{SenderKeyStates: make([]*groupRecord.SenderKeyStateStructure, 0, len(states))}
	// Baileys appends new states and uses the last; whatsmeow prepends and
	// uses the first.
	for i := len(states) - 1; i >= 0; i-- {
		s := states[i]
		pub := []byte(s.SenderSigningKey.Public)
		if len(pub) == 32 { // Baileys' getSigningKeyPublic adds the type byte to a bare key
			pub = append([]byte{curve25519Type}, pub...)
		}
		if err := checkKeys(keyCheck{fmt.Sprintf("state %d signing key", s.SenderKeyID), pub, publicKeyLength},
			keyCheck{fmt.Sprintf("state %d chain seed", s.SenderKeyID), s.SenderChainKey.Seed, 32}); err != nil {
			return nil, err
		}
		st := &groupRecord.SenderKeyStateStructure{
			KeyID:            s.SenderKeyID,
			SenderChainKey:   &ratchet.SenderChainKeyStructure{Iteration: s.SenderChainKey.Iteration, ChainKey: s.SenderChainKey.Seed},
			SigningKeyPublic: pub,
			Keys:             make([]*ratchet.SenderMessageKeyStructure, 0, len(s.SenderMessageKeys)),
		}
		switch len(s.SenderSigningKey.Private) {
		case 0: // a state of another sender's: no private key
		case 32:
			st.SigningKeyPrivate = s.SenderSigningKey.Private
		default:
			return nil, fmt.Errorf("state %d: signing private key of %d bytes", s.SenderKeyID, len(s.SenderSigningKey.Private))
		}
		for _, k := range s.SenderMessageKeys {
			if len(k.Seed) != 32 {
				return nil, fmt.Errorf("state %d: message key %d of %d bytes", s.SenderKeyID, k.Iteration, len(k.Seed))
			}
			mk, err := ratchet.NewSenderMessageKey(k.Iteration, k.Seed)
			if err != nil {
				return nil, err
			}
			st.Keys = append(st.Keys, ratchet.NewStructFromSenderMessageKey(mk))
		}
		out.SenderKeyStates = append(out.SenderKeyStates, st)
	}
	if _, err := groupRecord.NewSenderKeyFromStruct(out, serializer.SenderKeyRecord, serializer.SenderKeyState); err != nil {
		return nil, fmt.Errorf("the converted sender key does not load: %w", err)
	}
	return serializer.SenderKeyRecord.Serialize(out), nil
}

// SenderKeyFromWhatsmeow converts whatsmeow's serialized sender key record
// into Baileys' (the UTF-8 JSON to store as the value's bytes).
func SenderKeyFromWhatsmeow(goRecord []byte) ([]byte, error) {
	rec, err := serializer.SenderKeyRecord.Deserialize(goRecord)
	if err != nil {
		return nil, fmt.Errorf("not a whatsmeow sender key record: %w", err)
	}
	out := make([]nodeSenderKeyState, 0, len(rec.SenderKeyStates))
	for i := len(rec.SenderKeyStates) - 1; i >= 0; i-- {
		s := rec.SenderKeyStates[i]
		if s == nil || s.SenderChainKey == nil {
			return nil, fmt.Errorf("state %d is empty", i)
		}
		if err := checkKeys(keyCheck{fmt.Sprintf("state %d signing key", s.KeyID), s.SigningKeyPublic, publicKeyLength},
			keyCheck{fmt.Sprintf("state %d chain seed", s.KeyID), s.SenderChainKey.ChainKey, 32}); err != nil {
			return nil, err
		}
		var n nodeSenderKeyState
		n.SenderKeyID = s.KeyID
		n.SenderChainKey.Iteration = s.SenderChainKey.Iteration
		n.SenderChainKey.Seed = s.SenderChainKey.ChainKey
		n.SenderSigningKey.Public = s.SigningKeyPublic
		// whatsmeow writes a missing private key back as 32 zero bytes once
		// the state was loaded; Baileys marks it with an empty Buffer.
		n.SenderSigningKey.Private = nodeBuffer{}
		if len(s.SigningKeyPrivate) == 32 && !bytes.Equal(s.SigningKeyPrivate, make([]byte, 32)) {
			n.SenderSigningKey.Private = s.SigningKeyPrivate
		}
		n.SenderMessageKeys = make([]nodeSenderMessageKey, 0, len(s.Keys))
		for _, k := range s.Keys {
			if len(k.Seed) != 32 {
				return nil, fmt.Errorf("state %d: message key %d has no seed", s.KeyID, k.Iteration)
			}
			n.SenderMessageKeys = append(n.SenderMessageKeys, nodeSenderMessageKey{k.Iteration, k.Seed})
		}
		out = append(out, n)
	}
	return json.Marshal(out)
}
