package text_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pianorhythm/server/pkg/text"
)

func TestChat(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"hi", "hi", true},
		{"  two\nlines  ", "two\nlines", true},
		{"\x1b[31mred", "[31mred", true},
		{"abc\u202Efed", "abcfed", true},           // right-to-left override dropped
		{"\u2066isolated\u2069", "isolated", true}, // isolates dropped
		{"zero\u200Bwidth", "zerowidth", true},
		{"family 👨\u200D👩\u200D👧", "family 👨\u200D👩\u200D👧", true}, // emoji joiners kept
		{"\u202E", "", false},
		{" \t ", "", false},
		{"ab\xffcd", "", false},
		{strings.Repeat("é", 512), strings.Repeat("é", 512), true},
		{strings.Repeat("é", 513), "", false},
	}
	for _, tt := range tests {
		got, err := text.Chat(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Chat(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, text.ErrInvalid) {
			t.Errorf("Chat(%q) error %v is not ErrInvalid", tt.in, err)
		}
	}
}

func TestName(t *testing.T) {
	for in, ok := range map[string]bool{
		"Ann":                   true,
		"Ann Lee":               true,
		"Ж":                     true,
		"":                      false,
		" Ann":                  false,
		"Ann\u202E":             false,
		"A\u200Bnn":             false,
		"Ann\n":                 false,
		"a\x00b":                false,
		strings.Repeat("a", 41): false,
	} {
		if err := text.Name("name", in, 40); (err == nil) != ok {
			t.Errorf("Name(%q) = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestText(t *testing.T) {
	if err := text.Text("status", "line one\nline two\tok", 100); err != nil {
		t.Error(err)
	}
	if err := text.Text("status", "", 100); err != nil {
		t.Error(err)
	}
	if err := text.Text("status", "evil\u202E", 100); err == nil {
		t.Error("a bidi override passed")
	}
}

// FuzzChat: whatever comes in, a cleaned message is valid UTF-8 of 1-512
// characters with no forbidden character, and cleaning it again changes
// nothing.
func FuzzChat(f *testing.F) {
	for _, s := range []string{"hi", "a\u202Eb", "\x00", "👨\u200D👩", strings.Repeat("x", 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := text.Chat(in)
		if err != nil {
			return
		}
		if !utf8.ValidString(out) || utf8.RuneCountInString(out) < 1 || utf8.RuneCountInString(out) > text.MaxChat {
			t.Fatalf("Chat(%q) = %q", in, out)
		}
		for _, r := range out {
			if r != '\n' && text.Forbidden(r) {
				t.Fatalf("Chat(%q) kept forbidden %U", in, r)
			}
		}
		if again, err := text.Chat(out); err != nil || again != out {
			t.Fatalf("Chat is not idempotent on %q: %q, %v", out, again, err)
		}
	})
}

// FuzzName: an accepted name has no forbidden character.
func FuzzName(f *testing.F) {
	for _, s := range []string{"Ann", "A\u202Enn", " x", "\u200B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if text.Name("name", in, 40) != nil {
			return
		}
		for _, r := range in {
			if text.Forbidden(r) {
				t.Fatalf("Name accepted %q with %U", in, r)
			}
		}
	})
}
