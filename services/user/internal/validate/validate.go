// Package validate checks every user-supplied field of the user service;
// each function returns an error whose text can be shown to the caller.
package validate

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Username: 3-32 characters of ASCII letters, digits, '_' and '-'.
func Username(s string) error {
	if len(s) < 3 || len(s) > 32 {
		return invalid("username must be 3-32 characters")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return invalid("username may hold only letters, digits, '_' and '-'")
		}
	}
	return nil
}

// Password: 8-128 characters of valid UTF-8.
func Password(s string) error {
	if !utf8.ValidString(s) {
		return invalid("password is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n < 8 || n > 128 {
		return invalid("password must be 8-128 characters")
	}
	return nil
}

// DisplayName: 1-40 printable characters after trimming, no control or
// format characters (which would let a name impersonate another).
func DisplayName(s string) error {
	if !utf8.ValidString(s) {
		return invalid("display name is not valid UTF-8")
	}
	if strings.TrimSpace(s) != s {
		return invalid("display name may not start or end with spaces")
	}
	if n := utf8.RuneCountInString(s); n < 1 || n > 40 {
		return invalid("display name must be 1-40 characters")
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' || unicode.Is(unicode.Cf, r) {
			return invalid("display name holds an unprintable character")
		}
	}
	return nil
}

// Color: "#rrggbb" in hex digits.
func Color(s string) error {
	if len(s) != 7 || s[0] != '#' {
		return invalid("color must be #rrggbb")
	}
	for i := 1; i < 7; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return invalid("color must be #rrggbb")
		}
	}
	return nil
}

// Text: valid UTF-8 of at most maxRunes characters, no control characters
// other than newlines and tabs.
func Text(field, s string, maxRunes int) error {
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > maxRunes {
		return invalid("%s must be at most %d characters", field, maxRunes)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return invalid("%s holds a control character", field)
		}
	}
	return nil
}

// ID: a non-empty identifier of at most 64 characters without spaces or
// control characters (user ids, room ids).
func ID(field, s string) error {
	if s == "" {
		return invalid("%s is required", field)
	}
	if len(s) > 64 {
		return invalid("%s is too long", field)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || !utf8.ValidRune(r) {
			return invalid("%s holds a forbidden character", field)
		}
	}
	return nil
}

// Badge: 1-32 characters of letters, digits, '_', '-' and ':'.
func Badge(s string) error {
	if len(s) < 1 || len(s) > 32 {
		return invalid("badge must be 1-32 characters")
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == ':') || r > unicode.MaxASCII {
			return invalid("badge %q holds a forbidden character", s)
		}
	}
	return nil
}

// SearchPrefix: 1-40 characters.
func SearchPrefix(s string) error {
	if !utf8.ValidString(s) {
		return invalid("prefix is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n < 1 || n > 40 {
		return invalid("prefix must be 1-40 characters")
	}
	return nil
}
