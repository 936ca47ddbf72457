package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
)

const method = "/pianorhythm.v1.RoomService/SetMaintenance"

func TestServiceCredential(t *testing.T) {
	keys := NewServiceKeys()
	other := NewServiceKeys()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	md := metadata.Pairs(MDUserID, "u1", MDRoles, "MEMBER", MDForwardedFor, "203.0.113.7")
	cred, err := keys.Sign("edge", method, md, now)
	if err != nil {
		t.Fatal(err)
	}
	if caller, err := keys.Verify(cred, method, md, now.Add(2*time.Second)); err != nil || caller != "edge" {
		t.Fatalf("Verify = %q, %v; want edge", caller, err)
	}

	tampered := func(f func(md metadata.MD)) metadata.MD {
		c := md.Copy()
		f(c)
		return c
	}
	tests := []struct {
		name   string
		keys   ServiceKeys
		cred   string
		method string
		md     metadata.MD
		at     time.Time
		want   error
	}{
		{"no credential", keys, "", method, md, now, ErrNoCredential},
		{"another key", other, cred, method, md, now, ErrBadCredential},
		{"another method", keys, cred, "/pianorhythm.v1.StateService/SetConfig", md, now, ErrBadCredential},
		{"roles raised", keys, cred, method, tampered(func(m metadata.MD) { m.Set(MDRoles, "ADMIN") }), now, ErrBadCredential},
		{"another user", keys, cred, method, tampered(func(m metadata.MD) { m.Set(MDUserID, "u2") }), now, ErrBadCredential},
		{"identity dropped", keys, cred, method, tampered(func(m metadata.MD) { m.Delete(MDUserID) }), now, ErrBadCredential},
		{"identity added", keys, cred, method, tampered(func(m metadata.MD) { m.Append(MDGuest, "true") }), now, ErrBadCredential},
		{"address changed", keys, cred, method, tampered(func(m metadata.MD) { m.Set(MDForwardedFor, "198.51.100.1") }), now, ErrBadCredential},
		{"too old", keys, cred, method, md, now.Add(CredentialWindow + time.Second), ErrBadCredential},
		{"from the future", keys, cred, method, md, now.Add(-CredentialWindow - time.Second), ErrBadCredential},
		{"caller renamed", keys, strings.Replace(cred, ".edge.", ".monitor.", 1), method, md, now, ErrBadCredential},
		{"malformed", keys, "v1.edge", method, md, now, ErrBadCredential},
		{"other version", keys, "v0" + cred[2:], method, md, now, ErrBadCredential},
		{"server without keys", ServiceKeys{}, cred, method, md, now, ErrBadCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.keys.Verify(tt.cred, tt.method, tt.md, tt.at); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	// Metadata a server does not trust from peers may change in flight.
	extra := tampered(func(m metadata.MD) { m.Set("traceparent", "00-abc-def-01") })
	if _, err := keys.Verify(cred, method, extra, now); err != nil {
		t.Fatalf("Verify with unbound metadata added = %v", err)
	}
}

// TestServiceKeyRotation: the first key signs, every key verifies, so a
// fleet moves from one key to another without a refused call.
// TestServiceCredentialFormat pins the credential to its specification,
// written out here field by field: a service built before a change to the
// signing code must still be believed by one built after, and the other
// way round, during a rolling deploy.
func TestServiceCredentialFormat(t *testing.T) {
	secret := []byte(strings.Repeat("k", MinServiceKeyBytes))
	ks, err := ParseServiceKeys(base64.StdEncoding.EncodeToString(secret))
	if err != nil {
		t.Fatal(err)
	}
	md := metadata.Pairs(MDUserID, "u-1", MDRoles, "member", MDRoles, "moderator", MDForwardedFor, "10.0.0.7")
	at := time.UnixMilli(1764720000123)
	got, err := ks.Sign("connection", method, md, at)
	if err != nil {
		t.Fatal(err)
	}

	mac := hmac.New(sha256.New, secret)
	field := func(s string) { mac.Write([]byte(strconv.Itoa(len(s)) + ":" + s)) }
	field("pianorhythm service credential v1")
	field("connection")
	field(method)
	field("1764720000123")
	for _, k := range []string{MDUserID, MDDisplayName, MDRoles, MDGuest, MDForwardedFor} {
		field(k)
		field(strconv.Itoa(len(md.Get(k))))
		for _, v := range md.Get(k) {
			field(v)
		}
	}
	want := "v1.connection.1764720000123." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	if got != want {
		t.Fatalf("credential\n got %s\nwant %s", got, want)
	}
	for range 3 { // the pooled HMACs are reset between calls
		if caller, err := ks.Verify(want, method, md, at); err != nil || caller != "connection" {
			t.Fatalf("Verify(spec credential) = %q, %v", caller, err)
		}
	}
}

func TestServiceKeyRotation(t *testing.T) {
	old, next := NewServiceKeys(), NewServiceKeys()
	both, err := ParseServiceKeys(old.Encode() + "," + next.Encode())
	if err != nil {
		t.Fatal(err)
	}
	swapped, err := ParseServiceKeys(next.Encode() + ", " + old.Encode())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, signer := range []ServiceKeys{old, both, swapped, next} {
		cred, err := signer.Sign("room", method, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, verifier := range []ServiceKeys{both, swapped} {
			if _, err := verifier.Verify(cred, method, nil, now); err != nil {
				t.Errorf("a key of the set did not verify: %v", err)
			}
		}
	}
	cred, _ := next.Sign("room", method, nil, now)
	if _, err := old.Verify(cred, method, nil, now); !errors.Is(err, ErrBadCredential) {
		t.Fatalf("a key dropped from the set still verifies: %v", err)
	}
}

func TestParseServiceKeys(t *testing.T) {
	good := NewServiceKeys().Encode()
	for _, bad := range []string{"", " , ", "not base64!", "c2hvcnQ=", good + ",short"} {
		if _, err := ParseServiceKeys(bad); err == nil {
			t.Errorf("ParseServiceKeys(%q) accepted", bad)
		} else if strings.Contains(err.Error(), good) {
			t.Errorf("error quotes the key: %v", err)
		}
	}
	ks, err := ParseServiceKeys(strings.TrimRight(good, "="))
	if err != nil {
		t.Fatalf("unpadded key refused: %v", err)
	}
	if s := ks.String(); strings.Contains(s, good[:8]) {
		t.Fatalf("String shows the key: %s", s)
	}
	if _, err := (ServiceKeys{}).Sign("room", method, nil, time.Now()); err == nil {
		t.Fatal("the zero ServiceKeys signed")
	}
	if _, err := NewServiceKeys().Sign("room.evil", method, nil, time.Now()); err == nil {
		t.Fatal("a caller with a dot was signed")
	}
}

// BenchmarkServiceCredential is one call's signing and checking, as every
// call between services pays it twice (caller and callee).
func BenchmarkServiceCredential(b *testing.B) {
	ks := NewServiceKeys()
	md := metadata.Pairs(MDUserID, "u-1234567890", MDDisplayName, "Someone", MDRoles, "member", MDForwardedFor, "127.0.0.1")
	const call = "/pianorhythm.v1.StateService/AddUserToRoom"
	b.ReportAllocs()
	for b.Loop() {
		now := time.Now()
		cred, err := ks.Sign("connection", call, md, now)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ks.Verify(cred, call, md, now); err != nil {
			b.Fatal(err)
		}
	}
}
