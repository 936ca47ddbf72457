package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/metadata"
)

// Service credentials: every call between services carries one, and every
// gRPC server refuses a call without a valid one (pkg/rpc). A credential is
// an HMAC-SHA256, under a key the whole fleet shares, of the calling
// service's name, the method, the time of the call and the metadata the
// callee trusts from a peer (the identity it acts for and the client's
// address). So a caller without the key can neither call nor speak for
// anyone, and a credential seen on the wire is good for that one method,
// that one identity and CredentialWindow only.

// MDService is the metadata key of the service credential.
const MDService = "x-pr-service"

// MDForwardedFor is the client address the REST gateway (or the edge) sets
// for the per-address limits; like the identity metadata it is believed
// only from an authenticated peer, so it is covered by the credential.
const MDForwardedFor = "x-forwarded-for"

// CredentialWindow is how far the time in a credential may be from the
// callee's clock, either way: it covers clock skew between machines and
// the call's time in flight, and bounds a replay.
const CredentialWindow = time.Minute

// MinServiceKeyBytes is the least length of a service key.
const MinServiceKeyBytes = 32

// credentialVersion starts every credential, so the format can change.
const credentialVersion = "v1"

// boundMetadata are the metadata keys a credential covers: everything a
// server believes from an authenticated peer.
var boundMetadata = []string{MDUserID, MDDisplayName, MDRoles, MDGuest, MDForwardedFor}

var (
	// ErrNoCredential is returned for a call that carries no service
	// credential.
	ErrNoCredential = errors.New("no service credential")
	// ErrBadCredential is returned for a credential that is malformed,
	// signed with another key, made for another method or metadata, or
	// outside CredentialWindow.
	ErrBadCredential = errors.New("invalid service credential")
)

// ServiceKeys are the shared secrets that sign and check service
// credentials. The first key signs; every key verifies, so a key is
// rotated by adding the new one second, then moving it first, then
// dropping the old one, one rollout each. The zero value has no key and
// cannot sign or verify. It is immutable and safe for concurrent use; its
// String never shows the keys.
type ServiceKeys struct {
	keys []serviceKey
}

// serviceKey is one secret and its HMACs, kept for reuse: a reset HMAC
// starts from its keyed state instead of hashing the key again.
type serviceKey struct {
	secret []byte
	macs   *sync.Pool // of hash.Hash
}

func newServiceKey(secret []byte) serviceKey {
	return serviceKey{secret: secret, macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, secret) }}}
}

// ParseServiceKeys reads a comma-separated list of base64 keys (standard
// or URL alphabet, padded or not) of at least MinServiceKeyBytes each, as
// PR_SERVICE_KEY holds them. Errors never quote the value.
func ParseServiceKeys(s string) (ServiceKeys, error) {
	var ks ServiceKeys
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, err := decodeKey(part)
		if err != nil {
			return ServiceKeys{}, fmt.Errorf("service key %d: not base64", i+1)
		}
		if len(key) < MinServiceKeyBytes {
			return ServiceKeys{}, fmt.Errorf("service key %d: %d bytes, want at least %d", i+1, len(key), MinServiceKeyBytes)
		}
		ks.keys = append(ks.keys, newServiceKey(key))
	}
	if len(ks.keys) == 0 {
		return ServiceKeys{}, errors.New("no service key")
	}
	return ks, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// NewServiceKeys returns one new random key (for the all-in-one program,
// whose services share a process, and for tests).
func NewServiceKeys() ServiceKeys {
	key := make([]byte, MinServiceKeyBytes)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	return ServiceKeys{keys: []serviceKey{newServiceKey(key)}}
}

// IsZero reports whether ks has no key.
func (ks ServiceKeys) IsZero() bool { return len(ks.keys) == 0 }

// Encode returns the keys as ParseServiceKeys reads them (for handing the
// keys to a child process's environment).
func (ks ServiceKeys) Encode() string {
	parts := make([]string, len(ks.keys))
	for i, k := range ks.keys {
		parts[i] = base64.StdEncoding.EncodeToString(k.secret)
	}
	return strings.Join(parts, ",")
}

// String masks the keys, so a configuration printed with %v shows none.
func (ks ServiceKeys) String() string {
	return fmt.Sprintf("ServiceKeys(%d keys, masked)", len(ks.keys))
}

// Sign returns the credential of a call to method by caller at time at,
// covering the bound metadata in md (the outgoing metadata of the call).
// caller must not contain a dot.
func (ks ServiceKeys) Sign(caller, method string, md metadata.MD, at time.Time) (string, error) {
	if ks.IsZero() {
		return "", errors.New("sign service credential: no service key")
	}
	if caller == "" || strings.ContainsAny(caller, ". ") {
		return "", fmt.Errorf("sign service credential: caller %q must be a non-empty name without dots or spaces", caller)
	}
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	mac := credentialMAC(ks.keys[0], caller, method, ts, md)
	return credentialVersion + "." + caller + "." + ts + "." + base64.RawURLEncoding.EncodeToString(mac), nil
}

// Verify checks the credential cred of a call to method with incoming
// metadata md at time now, and returns the calling service's name.
func (ks ServiceKeys) Verify(cred, method string, md metadata.MD, now time.Time) (caller string, err error) {
	if cred == "" {
		return "", ErrNoCredential
	}
	if ks.IsZero() {
		return "", fmt.Errorf("%w: this server has no service key", ErrBadCredential)
	}
	parts := strings.Split(cred, ".")
	if len(parts) != 4 || parts[0] != credentialVersion || parts[1] == "" {
		return "", fmt.Errorf("%w: malformed", ErrBadCredential)
	}
	caller, ts := parts[1], parts[2]
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: malformed time", ErrBadCredential)
	}
	if d := now.Sub(time.UnixMilli(ms)); d > CredentialWindow || d < -CredentialWindow {
		return "", fmt.Errorf("%w: made %v from this server's clock, more than %v", ErrBadCredential, d.Round(time.Second), CredentialWindow)
	}
	got, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil {
		return "", fmt.Errorf("%w: malformed signature", ErrBadCredential)
	}
	for _, key := range ks.keys {
		if hmac.Equal(got, credentialMAC(key, caller, method, ts, md)) {
			return caller, nil
		}
	}
	return "", fmt.Errorf("%w: wrong key, method or metadata", ErrBadCredential)
}

// credentialMAC is the HMAC of one call. Every field is length-prefixed, so
// no two different calls have the same input. The input is built in one
// buffer and hashed with one Write: every call between services pays this
// twice, and field by field it cost a hundred allocations.
func credentialMAC(key serviceKey, caller, method, ts string, md metadata.MD) []byte {
	buf := make([]byte, 0, 256)
	field := func(s string) {
		buf = strconv.AppendInt(buf, int64(len(s)), 10)
		buf = append(buf, ':')
		buf = append(buf, s...)
	}
	field("pianorhythm service credential " + credentialVersion)
	field(caller)
	field(method)
	field(ts)
	for _, k := range boundMetadata {
		vals := md.Get(k)
		field(k)
		field(strconv.Itoa(len(vals)))
		for _, v := range vals {
			field(v)
		}
	}
	h := key.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(buf)
	sum := h.Sum(buf[:0])
	key.macs.Put(h)
	return sum
}

type peerKey struct{}

// WithPeer returns ctx marked as a call from the authenticated service
// caller (pkg/rpc's server does it once the credential checks out).
func WithPeer(ctx context.Context, caller string) context.Context {
	return context.WithValue(ctx, peerKey{}, caller)
}

// PeerFromContext returns the authenticated service that made the call,
// if any.
func PeerFromContext(ctx context.Context) (string, bool) {
	caller, ok := ctx.Value(peerKey{}).(string)
	return caller, ok && caller != ""
}
