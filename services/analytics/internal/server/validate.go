package server

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"unicode/utf8"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

const (
	maxIDLen     = 128
	maxTitle     = 200
	maxAuthor    = 100
	maxTags      = 10
	maxTag       = 32
	maxAttrs     = 16
	maxAttrLen   = 256
	defaultLimit = 10
	maxLimit     = 100
	defaultPage  = 20
	// defaultRecommendations is RecommendSongs' limit when none is given.
	defaultRecommendations = 5
)

// songID is the shape of song ids: they appear in URLs and Redis keys.
var songID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// tagRE keeps tags to words a client can put in a query string.
var tagRE = regexp.MustCompile(`^[a-z0-9][a-z0-9 _-]*$`)

func checkID(what, id string) error {
	switch {
	case id == "":
		return invalid(what + " is required")
	case len(id) > maxIDLen || !utf8.ValidString(id):
		return invalid(what + " is too long or not UTF-8")
	}
	return nil
}

func checkSongID(id string) error {
	if !songID.MatchString(id) {
		return invalid("song_id must be 1-64 lower-case letters, digits or dashes")
	}
	return nil
}

func checkEvent(ev *pb.Event) error {
	switch {
	case ev == nil:
		return invalid("event is required")
	case ev.GetType() == pb.EventType_EVENT_TYPE_UNSPECIFIED:
		return invalid("event type is required")
	case pb.EventType_name[int32(ev.GetType())] == "":
		return invalid("unknown event type")
	case ev.GetCount() < 0:
		return invalid("count must not be negative")
	case checkAccuracy(ev.GetAccuracy()) != nil:
		return checkAccuracy(ev.GetAccuracy())
	case len(ev.GetId()) > maxIDLen, len(ev.GetUserId()) > maxIDLen, len(ev.GetRoomId()) > maxIDLen:
		return invalid("ids must be at most 128 bytes")
	case len(ev.GetAttributes()) > maxAttrs:
		return invalid("at most 16 attributes")
	}
	for k, v := range ev.GetAttributes() {
		if k == "" || len(k) > maxAttrLen || len(v) > maxAttrLen {
			return invalid("attribute keys and values must be 1-256 bytes")
		}
	}
	return nil
}

func checkAccuracy(a float64) error {
	if a < 0 || a > 1 || a != a {
		return invalid("accuracy must be between 0 and 1")
	}
	return nil
}

func checkSong(s *pb.Song) error {
	switch {
	case s == nil:
		return invalid("song is required")
	case s.GetTitle() == "" || utf8.RuneCountInString(s.GetTitle()) > maxTitle || !utf8.ValidString(s.GetTitle()):
		return invalid("title must be 1-200 characters")
	case utf8.RuneCountInString(s.GetAuthor()) > maxAuthor || !utf8.ValidString(s.GetAuthor()):
		return invalid("author must be at most 100 characters")
	case len(s.GetTags()) > maxTags:
		return invalid("at most 10 tags")
	case s.GetNoteCount() < 0 || s.GetDurationMs() < 0:
		return invalid("note_count and duration_ms must not be negative")
	case s.GetNoteCount() > 0 && s.GetDurationMs() == 0:
		return invalid("duration_ms is required with note_count")
	case s.GetPlays() != 0 || s.GetFavorites() != 0 || s.GetCompletions() != 0 || s.GetAverageAccuracy() != 0:
		return invalid("plays, completions, accuracy and favorites are counted, not set")
	}
	if s.GetId() != "" {
		if err := checkSongID(s.GetId()); err != nil {
			return err
		}
	}
	for _, t := range s.GetTags() {
		if err := checkTag(t); err != nil {
			return err
		}
	}
	return nil
}

func checkTag(t string) error {
	if len(t) > maxTag || !tagRE.MatchString(t) {
		return invalid("tags must be 1-32 lower-case letters, digits, spaces, dashes or underscores")
	}
	return nil
}

// limit applies the default and bound of a result size.
func limit(n int32, def int) (int, error) {
	switch {
	case n < 0 || n > maxLimit:
		return 0, invalid(fmt.Sprintf("limit must be 0-%d", maxLimit))
	case n == 0:
		return def, nil
	}
	return int(n), nil
}

// Page tokens are the last id of the previous page, opaque to clients.
func encodeToken(lastID string) string { return base64.RawURLEncoding.EncodeToString([]byte(lastID)) }

func decodeToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || checkSongID(string(b)) != nil {
		return "", invalid("bad page_token")
	}
	return string(b), nil
}
