// Package passkeytest is a software authenticator for tests: what a phone
// or a security key does when a page calls navigator.credentials.create or
// get. It speaks the JSON the browser sends to the server (base64url
// fields), makes ES256 keys with "none" attestation, and always verifies
// the user unless told not to. Real browsers are tested with Chromium's
// virtual authenticator; this one lets handler tests run without a browser.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

var b64 = base64.RawURLEncoding

// Authenticator holds passkeys made by Create, for one browser origin.
type Authenticator struct {
	// Origin is the page's origin as the browser would report it.
	Origin string
	// SkipUserVerification makes the next answers claim user presence
	// only (no PIN, no fingerprint).
	SkipUserVerification bool
	// NoCounter leaves the signature counters at 0, as passkeys synced
	// between devices (and many others) do: a replayed answer cannot be
	// told from the first by its counter.
	NoCounter bool
	keys      []*key
}

type key struct {
	id      []byte
	rpID    string
	handle  []byte
	private *ecdsa.PrivateKey
	counter uint32
}

// New returns an authenticator used from pages of origin.
func New(origin string) *Authenticator { return &Authenticator{Origin: origin} }

// Len is how many passkeys the authenticator holds.
func (a *Authenticator) Len() int { return len(a.keys) }

// Copy is a clone of the authenticator, keys and signature counters
// included, as a copied security key would be: from now on the two count
// apart, so the portal can see one of them going backwards.
func (a *Authenticator) Copy() *Authenticator {
	c := *a
	c.keys = nil
	for _, k := range a.keys {
		dup := *k
		c.keys = append(c.keys, &dup)
	}
	return &c
}

type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Exclude []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
	} `json:"publicKey"`
}

type requestOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		Allow     []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

// Create answers the server's registration options with a new passkey, as
// the JSON the page posts back.
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("creation options: %w", err)
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, fmt.Errorf("user id: %w", err)
	}
	for _, ex := range o.PublicKey.Exclude {
		for _, k := range a.keys {
			if ex.ID == b64.EncodeToString(k.id) {
				return nil, fmt.Errorf("InvalidStateError: this authenticator already holds a passkey of this account")
			}
		}
	}
	private, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	k := &key{id: make([]byte, 16), rpID: o.PublicKey.RP.ID, handle: handle, private: private}
	_, _ = rand.Read(k.id)
	a.keys = append(a.keys, k)

	ecdh, err := private.PublicKey.ECDH()
	if err != nil {
		return nil, err
	}
	point := ecdh.Bytes() // 0x04 || X || Y
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: point[1:33], -3: point[33:]})
	if err != nil {
		return nil, err
	}
	attested := make([]byte, 0, 18+len(k.id)+len(cose))
	attested = append(attested, make([]byte, 16)...) // AAGUID
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(k.id)))
	attested = append(append(attested, k.id...), cose...)
	authData := a.authData(k, 0x40) // AT: attested credential data included
	authData = append(authData, attested...)
	attestation, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		return nil, err
	}
	client := a.clientData("webauthn.create", o.PublicKey.Challenge)
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(client),
			"attestationObject": b64.EncodeToString(attestation),
			"transports":        []string{"internal"},
		},
		"clientExtensionResults": map[string]any{"credProps": map[string]any{"rk": true}},
	})
}

// Get answers the server's login options with a passkey for its relying
// party (one in the allow list, when there is one), as the JSON the page
// posts back.
func (a *Authenticator) Get(options []byte) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("request options: %w", err)
	}
	var k *key
	for _, c := range a.keys {
		if c.rpID != o.PublicKey.RPID {
			continue
		}
		if len(o.PublicKey.Allow) == 0 {
			k = c
			break
		}
		for _, al := range o.PublicKey.Allow {
			if al.ID == b64.EncodeToString(c.id) {
				k = c
			}
		}
	}
	if k == nil {
		return nil, fmt.Errorf("NotAllowedError: no passkey for %q", o.PublicKey.RPID)
	}
	if !a.NoCounter {
		k.counter++
	}
	authData := a.authData(k, 0)
	client := a.clientData("webauthn.get", o.PublicKey.Challenge)
	sum := sha256.Sum256(client)
	digest := sha256.Sum256(append(append([]byte{}, authData...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.private, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(client),
			"authenticatorData": b64.EncodeToString(authData),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(k.handle),
		},
		"clientExtensionResults": map[string]any{},
	})
}

// authData is the authenticator data: the RP ID's hash, the flags (user
// present, user verified unless skipped, plus extra) and the counter.
func (a *Authenticator) authData(k *key, extra byte) []byte {
	rp := sha256.Sum256([]byte(k.rpID))
	flags := byte(0x01) | extra
	if !a.SkipUserVerification {
		flags |= 0x04
	}
	out := append(rp[:], flags)
	return binary.BigEndian.AppendUint32(out, k.counter)
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}
