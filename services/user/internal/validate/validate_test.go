package validate

import (
	"errors"
	"strings"
	"testing"
)

func TestValidators(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) error
		in   string
		ok   bool
	}{
		{"username ok", Username, "alice_01-x", true},
		{"username short", Username, "al", false},
		{"username long", Username, strings.Repeat("a", 33), false},
		{"username space", Username, "al ice", false},
		{"username unicode", Username, "alicé", false},
		{"password ok", Password, "12345678", true},
		{"password short", Password, "1234567", false},
		{"password long", Password, strings.Repeat("x", 129), false},
		{"password bad utf8", Password, "12345678\xff", false},
		{"name ok", DisplayName, "Ålice the Pianist", true},
		{"name 40", DisplayName, strings.Repeat("é", 40), true},
		{"name 41", DisplayName, strings.Repeat("é", 41), false},
		{"name empty", DisplayName, "", false},
		{"name padded", DisplayName, " bob", false},
		{"name control", DisplayName, "bo\x07b", false},
		{"name rtl override", DisplayName, "bob\u202e", false},
		{"color ok", Color, "#a0B1c2", true},
		{"color short", Color, "#abc", false},
		{"color no hash", Color, "a0b1c2f", false},
		{"color not hex", Color, "#zzzzzz", false},
		{"status ok", func(s string) error { return Text("status", s, 128) }, "practising Chopin", true},
		{"status long", func(s string) error { return Text("status", s, 128) }, strings.Repeat("x", 129), false},
		{"status control", func(s string) error { return Text("status", s, 128) }, "a\x00b", false},
		{"id ok", func(s string) error { return ID("user_id", s) }, "0194-abc", true},
		{"id empty", func(s string) error { return ID("user_id", s) }, "", false},
		{"id space", func(s string) error { return ID("user_id", s) }, "a b", false},
		{"badge ok", Badge, "early:supporter", true},
		{"badge bad", Badge, "bad badge", false},
		{"prefix ok", SearchPrefix, "al", true},
		{"prefix empty", SearchPrefix, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.fn(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("err %v does not wrap ErrInvalid", err)
			}
		})
	}
}
