package server

import (
	"encoding/base64"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/durationpb"
)

// Validation rules (documented in the README).
const (
	maxIDLen       = 64
	maxTokenIDLen  = 128
	maxHitKeyLen   = 200
	maxChatRunes   = 512
	maxNameRunes   = 64
	maxTextRunes   = 1024
	maxPresenceIDs = 500
	maxPageSize    = 200
	defPageSize    = 50
)

var (
	// idRe: ids are used inside Redis key names, so no ':' (it separates
	// key parts) and no spaces.
	idRe      = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)
	tokenIDRe = regexp.MustCompile(`^[A-Za-z0-9_.+/=\-]+$`)
	colorRe   = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

func checkID(field, v string) error {
	switch {
	case v == "":
		return invalidf("%s is required", field)
	case len(v) > maxIDLen:
		return invalidf("%s is longer than %d bytes", field, maxIDLen)
	case !idRe.MatchString(v):
		return invalidf("%s %q has characters outside [A-Za-z0-9_.-]", field, v)
	}
	return nil
}

// checkOptionalID accepts "" or a valid id.
func checkOptionalID(field, v string) error {
	if v == "" {
		return nil
	}
	return checkID(field, v)
}

func checkTokenID(field, v string) error {
	if v == "" || len(v) > maxTokenIDLen || !tokenIDRe.MatchString(v) {
		return invalidf("%s must be 1-%d bytes of [A-Za-z0-9_.+/=-]", field, maxTokenIDLen)
	}
	return nil
}

func checkHitKey(v string) error {
	if v == "" || len(v) > maxHitKeyLen || !utf8.ValidString(v) {
		return invalidf("key must be 1-%d bytes of UTF-8", maxHitKeyLen)
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return invalidf("key must not contain spaces or control characters")
	}
	return nil
}

// checkText checks optional free text: valid UTF-8, at most max characters.
func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return invalidf("%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return invalidf("%s is %d characters, at most %d", field, n, max)
	}
	return nil
}

func checkChatText(v string) error {
	if !utf8.ValidString(v) {
		return invalidf("chat text is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n < 1 || n > maxChatRunes {
		return invalidf("chat text must be 1-%d characters, got %d", maxChatRunes, n)
	}
	return nil
}

func checkColor(field, v string) error {
	if v != "" && !colorRe.MatchString(v) {
		return invalidf("%s must be #rrggbb", field)
	}
	return nil
}

// checkDuration converts an optional duration within [0, max]; nil is 0.
func checkDuration(field string, d *durationpb.Duration, max time.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, invalidf("%s: %v", field, err)
	}
	v := d.AsDuration()
	if v < 0 || v > max {
		return 0, invalidf("%s must be between 0 and %s", field, max)
	}
	return v, nil
}

// checkSignedDuration is checkDuration where a negative value means "for
// ever" (any negative duration is returned as -1ns).
func checkSignedDuration(field string, d *durationpb.Duration, max time.Duration) (time.Duration, error) {
	if d != nil && d.CheckValid() == nil && d.AsDuration() < 0 {
		return -1, nil
	}
	return checkDuration(field, d, max)
}

func encodePageToken(lastID string) string {
	if lastID == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(lastID))
}

func decodePageToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || checkID("page_token", string(b)) != nil {
		return "", invalidf("page_token is not one this service issued")
	}
	return string(b), nil
}
