// Package text is the one validator of the free text people type: chat,
// display names, room names, status lines. Every service that accepts such
// text checks it here, so chat and names follow the same rules.
//
// The rules: valid UTF-8; no control characters (a newline is kept in chat
// and longer texts); no bidirectional controls (U+202A-U+202E, U+2066-
// U+2069, U+200E, U+200F, U+061C), which reorder what others see (a name
// that reads as someone else's, a message whose end shows first); no other
// invisible format characters (zero-width spaces, soft hyphens, byte order
// marks) except the joiners that emoji sequences are made of (U+200C,
// U+200D and the tag characters of flag sequences). Chat is cleaned (the
// forbidden characters are dropped) since a pasted line should still go
// out; a name is refused, since a name shown to everyone must be exactly
// what its owner typed.
package text

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxChat is the longest chat message, in characters.
const MaxChat = 512

// ErrInvalid is wrapped by every refusal; its text can be shown to the
// person who typed.
var ErrInvalid = errors.New("invalid text")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Forbidden reports whether r may not appear in typed text (newline and
// tab excepted by the callers that keep them).
func Forbidden(r rune) bool {
	switch {
	case r == utf8.RuneError:
		return true
	case unicode.Is(unicode.Cc, r):
		return true
	case isBidi(r):
		return true
	case r == 0x200C || r == 0x200D: // joiners of emoji sequences
		return false
	case r >= 0xE0020 && r <= 0xE007F: // tags of flag sequences
		return false
	case unicode.Is(unicode.Cf, r):
		return true
	}
	return false
}

func isBidi(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// Chat cleans a chat message: forbidden characters dropped (newlines
// kept), surrounding space trimmed; refused when not valid UTF-8, or empty
// or longer than MaxChat characters once cleaned.
func Chat(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid("chat must be valid UTF-8")
	}
	clean := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\n' || !Forbidden(r) {
			return r
		}
		return -1
	}, s))
	n := utf8.RuneCountInString(clean)
	if n < 1 || n > MaxChat {
		return "", invalid("chat must be 1-%d characters", MaxChat)
	}
	return clean, nil
}

// Name checks a name shown to others (a display name, a room name): 1 to
// max characters, no forbidden character, no surrounding space.
func Name(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", field)
	}
	if strings.TrimSpace(s) != s {
		return invalid("%s may not start or end with spaces", field)
	}
	if n := utf8.RuneCountInString(s); n < 1 || n > max {
		return invalid("%s must be 1-%d characters", field, max)
	}
	for _, r := range s {
		if Forbidden(r) || (!unicode.IsPrint(r) && r != ' ' && r != 0x200C && r != 0x200D && !(r >= 0xE0020 && r <= 0xE007F)) {
			return invalid("%s holds an invisible or control character", field)
		}
	}
	return nil
}

// Text checks a longer free text (a status line, a description, a welcome
// message): at most max characters, newlines and tabs allowed, no other
// forbidden character. Empty is allowed.
func Text(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > max {
		return invalid("%s must be at most %d characters", field, max)
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && Forbidden(r) {
			return invalid("%s holds an invisible or control character", field)
		}
	}
	return nil
}
