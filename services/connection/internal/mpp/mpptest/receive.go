package mpptest

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Received is one message from the server: its `m` and the whole object.
type Received struct {
	M   string
	Raw json.RawMessage
}

// Decode unmarshals the message into v (one of the types below).
func (r Received) Decode(v any) error {
	if err := json.Unmarshal(r.Raw, v); err != nil {
		return fmt.Errorf("mpptest: decode %q %s: %w", r.M, r.Raw, err)
	}
	return nil
}

// Parse splits a server frame into its messages; it fails unless the frame
// is a JSON array of objects that each have a string `m`, as the protocol
// requires.
func Parse(frame []byte) ([]Received, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(frame, &raw); err != nil {
		return nil, fmt.Errorf("mpptest: frame %s is not a JSON array: %w", frame, err)
	}
	out := make([]Received, 0, len(raw))
	for _, r := range raw {
		var head struct {
			M *string `json:"m"`
		}
		if err := json.Unmarshal(r, &head); err != nil || head.M == nil {
			return nil, fmt.Errorf("mpptest: message %s has no string m", r)
		}
		out = append(out, Received{M: *head.M, Raw: r})
	}
	return out, nil
}

// Coord is a mouse coordinate: servers send numbers or numeric strings.
type Coord float64

// UnmarshalJSON accepts 12.5 and "12.50".
func (c *Coord) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("coordinate %q: %w", s, err)
		}
		*c = Coord(f)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*c = Coord(f)
	return nil
}

// Tag marks staff and bots.
type Tag struct {
	Text  string `json:"text"`
	Color string `json:"color"`
}

// Participant is participant info (also the body of `p`).
type Participant struct {
	UserID string `json:"_id"`
	ID     string `json:"id"`
	Name   string `json:"name"`
	Color  string `json:"color"`
	X      *Coord `json:"x"`
	Y      *Coord `json:"y"`
	Tag    *Tag   `json:"tag"`
}

// Pos is a point of the crown's animation.
type Pos struct {
	X Coord `json:"x"`
	Y Coord `json:"y"`
}

// Crown is who holds the channel, or where it was dropped.
type Crown struct {
	UserID        string `json:"userId"`
	ParticipantID string `json:"participantId"`
	Time          int64  `json:"time"`
	StartPos      *Pos   `json:"startPos"`
	EndPos        *Pos   `json:"endPos"`
}

// ChannelSettings as a server sends them (limit may be a string).
type ChannelSettings struct {
	Visible   *bool       `json:"visible"`
	Chat      *bool       `json:"chat"`
	Crownsolo *bool       `json:"crownsolo"`
	Color     string      `json:"color"`
	Color2    string      `json:"color2"`
	Limit     json.Number `json:"limit"`
	Lobby     bool        `json:"lobby"`
}

// ChannelInfo describes a channel.
type ChannelInfo struct {
	Name     string           `json:"_id"`
	ID       string           `json:"id"`
	Count    int              `json:"count"`
	Settings *ChannelSettings `json:"settings"`
	Crown    *Crown           `json:"crown"`
	Banned   bool             `json:"banned"`
}

// Challenge is `b`.
type Challenge struct {
	Code string `json:"code"`
}

// Hello is the server's `hi`.
type Hello struct {
	T     int64       `json:"t"`
	U     Participant `json:"u"`
	Motd  string      `json:"motd"`
	Token string      `json:"token"`
}

// Pong is the server's `t`.
type Pong struct {
	T float64  `json:"t"`
	E *float64 `json:"e"`
}

// ChannelState is the server's `ch`.
type ChannelState struct {
	Ch  ChannelInfo   `json:"ch"`
	Ppl []Participant `json:"ppl"`
	P   string        `json:"p"`
}

// History is `c`.
type History struct {
	C []Chat `json:"c"`
}

// Left is the server's `bye`.
type Left struct {
	P string `json:"p"`
}

// NotesFrom is the server's `n`.
type NotesFrom struct {
	T float64 `json:"t"`
	N []Note  `json:"n"`
	P string  `json:"p"`
}

// Chat is the server's `a` (also an entry of `c`, with its m).
type Chat struct {
	M  string      `json:"m"`
	A  string      `json:"a"`
	P  Participant `json:"p"`
	T  int64       `json:"t"`
	ID string      `json:"id"`
}

// Cursor is the server's `m`.
type Cursor struct {
	ID string `json:"id"`
	X  Coord  `json:"x"`
	Y  Coord  `json:"y"`
}

// List is `ls`.
type List struct {
	C bool          `json:"c"`
	U []ChannelInfo `json:"u"`
}

// Quota is `nq`.
type Quota struct {
	Allowance  int `json:"allowance"`
	Max        int `json:"max"`
	MaxHistLen int `json:"maxHistLen"`
}

// Notification is a message box.
type Notification struct {
	Title    string `json:"title"`
	Text     string `json:"text"`
	HTML     string `json:"html"`
	Duration int    `json:"duration"`
	Class    string `json:"class"`
	ID       string `json:"id"`
	Target   string `json:"target"`
}

// Keys are the 88 key names of the MPP keyboard, lowest (MIDI 21) first.
func Keys() []string {
	keys := []string{"a-1", "as-1", "b-1"}
	for oct := 0; oct < 7; oct++ {
		for _, n := range []string{"c", "cs", "d", "ds", "e", "f", "fs", "g", "gs", "a", "as", "b"} {
			keys = append(keys, n+strconv.Itoa(oct))
		}
	}
	return append(keys, "c7")
}
