package libsignalnode

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// libsignal-node's session record JSON (src/session_record.js serialize).
// Byte fields are base64 strings there, which is encoding/json's []byte.
type (
	nodeRecord struct {
		Sessions map[string]*nodeEntry `json:"_sessions"`
		Version  string                `json:"version"`
	}
	nodeEntry struct {
		RegistrationID *uint32            `json:"registrationId,omitempty"`
		CurrentRatchet nodeRatchet        `json:"currentRatchet"`
		IndexInfo      nodeIndexInfo      `json:"indexInfo"`
		Chains         nodeChains         `json:"_chains"`
		PendingPreKey  *nodePendingPreKey `json:"pendingPreKey,omitempty"`
	}
	nodeRatchet struct {
		EphemeralKeyPair       nodeKeyPair `json:"ephemeralKeyPair"`
		LastRemoteEphemeralKey []byte      `json:"lastRemoteEphemeralKey"`
		PreviousCounter        uint32      `json:"previousCounter"`
		RootKey                []byte      `json:"rootKey"`
	}
	nodeKeyPair struct {
		PubKey  []byte `json:"pubKey"`
		PrivKey []byte `json:"privKey"`
	}
	nodeIndexInfo struct {
		BaseKey           []byte `json:"baseKey"`
		BaseKeyType       int    `json:"baseKeyType"`
		Closed            int64  `json:"closed"`
		Used              int64  `json:"used"`
		Created           int64  `json:"created"`
		RemoteIdentityKey []byte `json:"remoteIdentityKey"`
	}
	nodeChain struct {
		ChainKey    nodeChainKey      `json:"chainKey"`
		ChainType   int               `json:"chainType"`
		MessageKeys map[string][]byte `json:"messageKeys"`
	}
	nodeChainKey struct {
		Counter int64  `json:"counter"`
		Key     []byte `json:"key,omitempty"` // absent once the chain is closed
	}
	nodePendingPreKey struct {
		SignedKeyID uint32  `json:"signedKeyId"`
		BaseKey     []byte  `json:"baseKey"`
		PreKeyID    *uint32 `json:"preKeyId,omitempty"`
	}
)

// libsignal-node's constants (src/base_key_type.js, src/chain_type.js) and
// its record version (src/session_record.js).
const (
	baseKeyOurs     = 1
	baseKeyTheirs   = 2
	chainSending    = 1
	chainReceiving  = 2
	recordVersion   = "v1"
	closedNever     = -1
	curve25519Type  = 0x05
	publicKeyLength = 33
)

// namedChain is one entry of an entry's _chains, under its base64 ratchet key.
type namedChain struct {
	ID    string
	Chain *nodeChain
}

// nodeChains keeps _chains in the order of the JSON object, which is the
// order libsignal-node created them (their keys are base64, never integer
// like, so a JS object keeps insertion order): the receiving chains' order
// says which are the newest.
type nodeChains []namedChain

func (c nodeChains) MarshalJSON() ([]byte, error) {
	var out bytes.Buffer
	out.WriteByte('{')
	for i, nc := range c {
		if i > 0 {
			out.WriteByte(',')
		}
		k, _ := json.Marshal(nc.ID)
		v, err := json.Marshal(nc.Chain)
		if err != nil {
			return nil, err
		}
		out.Write(k)
		out.WriteByte(':')
		out.Write(v)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

func (c *nodeChains) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("_chains is not an object")
	}
	*c = nil
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		id, _ := t.(string)
		var ch nodeChain
		if err := dec.Decode(&ch); err != nil {
			return fmt.Errorf("chain %s: %w", id, err)
		}
		*c = append(*c, namedChain{id, &ch})
	}
	_, err := dec.Token()
	return err
}

func (c nodeChains) find(id string) *nodeChain {
	for _, nc := range c {
		if nc.ID == id {
			return nc.Chain
		}
	}
	return nil
}
