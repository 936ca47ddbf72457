// Package password hashes and checks passwords with argon2id, encoded in
// the PHC string format so parameters can change without breaking old
// hashes.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMismatch is returned by Verify for a wrong password.
var ErrMismatch = errors.New("password does not match")

// Params are the argon2id cost parameters.
type Params struct {
	// Time is the number of passes; zero value means 2.
	Time uint32
	// MemoryKiB is the memory cost; zero value means 19456 (19 MiB, the
	// OWASP recommendation for argon2id with t=2).
	MemoryKiB uint32
	// Threads is the parallelism; zero value means 1.
	Threads uint8
}

func (p Params) withDefaults() Params {
	if p.Time == 0 {
		p.Time = 2
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = 19456
	}
	if p.Threads == 0 {
		p.Threads = 1
	}
	return p
}

const (
	saltLen = 16
	keyLen  = 32
)

// Hasher hashes with fixed parameters; it is safe for concurrent use.
type Hasher struct {
	p     Params
	dummy string // a hash to verify against when the account does not exist
}

// NewHasher returns a Hasher with p (zero fields take their defaults).
func NewHasher(p Params) *Hasher {
	h := &Hasher{p: p.withDefaults()}
	h.dummy, _ = h.Hash("dummy password for timing")
	return h
}

// Hash returns the PHC encoding of an argon2id hash of pw with a new salt.
func (h *Hasher) Hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, h.p.Time, h.p.MemoryKiB, h.p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.p.MemoryKiB, h.p.Time, h.p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify checks pw against encoded (made by Hash, with any parameters). It
// returns ErrMismatch for a wrong password.
func (h *Hasher) Verify(encoded, pw string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("verify password: not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return fmt.Errorf("verify password: unsupported version %q", parts[2])
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return fmt.Errorf("verify password: parameters: %w", err)
	}
	if p.Time == 0 || p.MemoryKiB == 0 || p.Threads == 0 || p.MemoryKiB > 1<<22 {
		return errors.New("verify password: bad parameters")
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("verify password: salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return errors.New("verify password: bad key")
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// VerifyDummy spends as long as a real Verify and always fails, so that a
// login for an unknown user takes as long as one with a wrong password.
func (h *Hasher) VerifyDummy(pw string) error {
	_ = h.Verify(h.dummy, pw)
	return ErrMismatch
}
