package mpptest

import (
	"encoding/json"
	"fmt"
)

// Message is one message a client sends; Name is its `m`.
type Message interface{ Name() string }

// Frame returns msgs as one MPP frame: a JSON array of objects, each with
// its `m`. It panics on a message that does not marshal to an object (a
// bug in the test).
func Frame(msgs ...Message) []byte {
	out := make([]map[string]json.RawMessage, 0, len(msgs))
	for _, msg := range msgs {
		b, err := json.Marshal(msg)
		if err != nil {
			panic(fmt.Sprintf("mpptest: marshal %T: %v", msg, err))
		}
		obj := map[string]json.RawMessage{}
		if err := json.Unmarshal(b, &obj); err != nil {
			panic(fmt.Sprintf("mpptest: %T is not an object: %v", msg, err))
		}
		name, _ := json.Marshal(msg.Name())
		obj["m"] = name
		out = append(out, obj)
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	return b
}

// Hi is the handshake (`hi`).
type Hi struct {
	Token string `json:"token,omitempty"`
	Code  any    `json:"code,omitempty"`
}

// Ping is a time sync (`t`); E is the client's time, nil to leave it out.
type Ping struct {
	E *float64 `json:"e,omitempty"`
}

// Join changes channel (`ch`), creating it with Set when missing.
type Join struct {
	ID  string    `json:"_id"`
	Set *Settings `json:"set,omitempty"`
}

// Settings are channel settings as a client sends them; nil fields are
// left out.
type Settings struct {
	Visible   *bool   `json:"visible,omitempty"`
	Chat      *bool   `json:"chat,omitempty"`
	Crownsolo *bool   `json:"crownsolo,omitempty"`
	Color     string  `json:"color,omitempty"`
	Color2    string  `json:"color2,omitempty"`
	Limit     *int    `json:"limit,omitempty"`
	Lobby     *bool   `json:"lobby,omitempty"`
	NoCussing *bool   `json:"no cussing,omitempty"`
	Noindex   *bool   `json:"noindex,omitempty"`
	MinOnline *uint32 `json:"minOnlineTime,omitempty"`
}

// Note is one key event: a start has V (nil: the receiver's default), a
// stop has S 1; D is the delay after the batch time.
type Note struct {
	N string   `json:"n"`
	V *float64 `json:"v,omitempty"`
	D float64  `json:"d,omitempty"`
	S int      `json:"s,omitempty"`
}

// Notes is a note batch (`n`) at server time T.
type Notes struct {
	T float64 `json:"t"`
	N []Note  `json:"n"`
}

// Say is a chat message (`a`).
type Say struct {
	Message string `json:"message"`
	ReplyTo string `json:"reply_to,omitempty"`
}

// Move is a mouse position (`m`); a browser sends strings such as "50.30".
type Move struct {
	X any `json:"x"`
	Y any `json:"y"`
}

// UserSet changes the own name or color (`userset`).
type UserSet struct {
	Set UserFields `json:"set"`
}

// UserFields are what userset changes.
type UserFields struct {
	Name  string `json:"name,omitempty"`
	Color string `json:"color,omitempty"`
}

// ChSet changes the channel's settings (`chset`).
type ChSet struct {
	Set Settings `json:"set"`
}

// Chown gives the crown to participant ID; empty ID drops it.
type Chown struct {
	ID string `json:"id,omitempty"`
}

// Kickban bans user ID from the channel for Ms milliseconds.
type Kickban struct {
	ID string `json:"_id"`
	Ms int64  `json:"ms"`
}

// Unban lifts a channel ban of user ID.
type Unban struct {
	ID string `json:"_id"`
}

// ListOn subscribes to the channel list (`+ls`).
type ListOn struct{}

// ListOff ends the subscription (`-ls`).
type ListOff struct{}

// Bye asks the server to close the socket.
type Bye struct{}

// Devices lists the browser's MIDI devices.
type Devices struct {
	List []map[string]any `json:"list"`
}

// Custom is mppclone's arbitrary relay.
type Custom struct {
	Data   any            `json:"data"`
	Target map[string]any `json:"target"`
}

// DM is a direct message (mppclone).
type DM struct {
	ID      string `json:"_id"`
	Message string `json:"message"`
}

func (Hi) Name() string      { return "hi" }
func (Ping) Name() string    { return "t" }
func (Join) Name() string    { return "ch" }
func (Notes) Name() string   { return "n" }
func (Say) Name() string     { return "a" }
func (Move) Name() string    { return "m" }
func (UserSet) Name() string { return "userset" }
func (ChSet) Name() string   { return "chset" }
func (Chown) Name() string   { return "chown" }
func (Kickban) Name() string { return "kickban" }
func (Unban) Name() string   { return "unban" }
func (ListOn) Name() string  { return "+ls" }
func (ListOff) Name() string { return "-ls" }
func (Bye) Name() string     { return "bye" }
func (Devices) Name() string { return "devices" }
func (Custom) Name() string  { return "custom" }
func (DM) Name() string      { return "dm" }

// Bool and Int return pointers, for optional fields.
func Bool(b bool) *bool                { return &b }
func Int(i int) *int                   { return &i }
func Float(f float64) *float64         { return &f }
func Velocity(midi int) *float64       { return Float(float64(int(float64(midi)/127*1000+0.5)) / 1000) }
func Start(key string, v float64) Note { return Note{N: key, V: Float(v)} }
func Stop(key string) Note             { return Note{N: key, S: 1} }
