package models

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Sealer encrypts secrets at rest (OAuth tokens, client secrets) with
// AES-256-GCM. Keys are derived from the master keys with HKDF; the newest key
// seals, every key opens, so a master key can be rotated by prepending a new one.
type Sealer struct {
	keys []sealKey // newest first
}

type sealKey struct {
	id   string
	aead cipher.AEAD
}

// NewSealer derives one AES key per master key (newest first).
func NewSealer(masters [][]byte) (*Sealer, error) {
	if len(masters) == 0 {
		return nil, errors.New("sealer: no master key")
	}
	s := &Sealer{}
	for _, m := range masters {
		k, err := hkdf.Key(sha256.New, m, nil, "privilege secret-at-rest v1", 32)
		if err != nil {
			return nil, fmt.Errorf("sealer: derive key: %w", err)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("sealer: %w", err)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("sealer: %w", err)
		}
		sum := sha256.Sum256(k)
		s.keys = append(s.keys, sealKey{id: hex.EncodeToString(sum[:4]), aead: aead})
	}
	return s, nil
}

// Seal encrypts plaintext bound to aad (e.g. "jira_integrations/7/refresh_token").
// The empty string seals to the empty string.
func (s *Sealer) Seal(plaintext, aad string) string {
	if plaintext == "" {
		return ""
	}
	k := s.keys[0]
	ct := k.aead.Seal(nil, nil, []byte(plaintext), []byte(aad))
	return "v1:" + k.id + ":" + base64.RawStdEncoding.EncodeToString(ct)
}

// Open decrypts a value made by Seal with any configured key.
func (s *Sealer) Open(sealed, aad string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	parts := strings.SplitN(sealed, ":", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return "", ErrDecryptionFailed
	}
	ct, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil {
		return "", ErrDecryptionFailed
	}
	for _, k := range s.keys {
		if k.id != parts[1] {
			continue
		}
		pt, err := k.aead.Open(nil, nil, ct, []byte(aad))
		if err != nil {
			return "", ErrDecryptionFailed
		}
		return string(pt), nil
	}
	return "", ErrDecryptionFailed
}

// NeedsReseal reports whether sealed was made with an older key.
func (s *Sealer) NeedsReseal(sealed string) bool {
	return sealed != "" && !strings.HasPrefix(sealed, "v1:"+s.keys[0].id+":")
}
