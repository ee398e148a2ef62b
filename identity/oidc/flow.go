// SPDX-License-Identifier: EUPL-1.2

package oidc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// flow is what the RP remembers between /login and /callback. It travels in
// a short-lived cookie sealed with AES-256-GCM, so the server keeps no state
// and any node of a cluster can finish the login.
type flow struct {
	As       string    `json:"as"`
	State    string    `json:"st"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"nx"`
	MinLoA   int       `json:"l,omitempty"` // identity.LoA the login must reach
	Expires  time.Time `json:"exp"`
}

// sealer encrypts and authenticates flow cookies.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("flow key must be 32 bytes")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &sealer{a}, nil
}

// seal returns base64url(nonce ‖ ciphertext) of f, bound to name.
func (s *sealer) seal(name string, f flow) (string, error) {
	plain, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, plain, []byte(name))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// open reverses seal; any tampering fails.
func (s *sealer) open(name, v string) (flow, error) {
	var f flow
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return f, errors.New("flow cookie malformed")
	}
	ns := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:ns], raw[ns:], []byte(name))
	if err != nil {
		return f, errors.New("flow cookie not authentic")
	}
	if err := json.Unmarshal(plain, &f); err != nil {
		return f, errors.New("flow cookie malformed")
	}
	return f, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
