package token

import (
	"crypto/sha256"
	"encoding/base64"
)

// NewRefresh returns a new opaque refresh token (256 random bits) and the id
// under which it is stored: only the hash is ever stored, so a leak of the
// store does not leak usable tokens.
func NewRefresh() (token, id string) {
	token = randomID(32)
	return token, RefreshID(token)
}

// RefreshID is the storage id of a refresh token: its SHA-256 in base64url.
func RefreshID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewFamily returns a new refresh token family id (one per login).
func NewFamily() string { return randomID(16) }
