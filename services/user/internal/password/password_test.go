package password

import (
	"errors"
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h := NewHasher(Params{Time: 1, MemoryKiB: 1024})
	enc, err := h.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("encoding = %q", enc)
	}
	enc2, _ := h.Hash("correct horse")
	if enc == enc2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	// Hashes made with other parameters still verify.
	other := NewHasher(Params{Time: 2, MemoryKiB: 2048, Threads: 2})
	tests := []struct {
		name string
		enc  string
		pw   string
		want error
	}{
		{"right", enc, "correct horse", nil},
		{"wrong", enc, "correct horse!", ErrMismatch},
		{"empty", enc, "", ErrMismatch},
		{"other params", mustHash(t, other, "pw123456"), "pw123456", nil},
		{"dummy", h.dummy, "x", ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := h.Verify(tt.enc, tt.pw); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=18$m=1024,t=1,p=1$AA$AA", "$argon2id$v=19$m=0,t=1,p=1$AA$AA", "$argon2id$v=19$m=1024,t=1,p=1$!!$AA"} {
		if err := h.Verify(bad, "x"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a format error", bad, err)
		}
	}
}

func mustHash(t *testing.T, h *Hasher, pw string) string {
	t.Helper()
	s, err := h.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
