package mpp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Limits of the client protocol (DESIGN section 4) and of MPP that apply
// to what an MPP client sends.
const (
	DefaultMaxFrameBytes = 64 << 10
	DefaultMaxMessages   = 64
	maxNoteEvents        = 300
	maxDelayMs           = 1000
	maxChatRunes         = 512
	maxChannelRunes      = 512
	maxUserNameRunes     = 40
	maxBanMs             = 3_600_000
	// maxTime bounds times to what a JavaScript number holds exactly.
	maxTime = 1 << 53
)

// kind is what the edge does with a decoded MPP message.
type kind uint8

const (
	forward     kind = iota // a client message of our protocol
	hello                   // hi: the handshake
	goodbye                 // bye: close the socket
	ignored                 // known and harmless; nothing to do
	unsupported             // known, but we have nothing like it
)

// spec is one MPP client message: how it decodes and what the edge does.
type spec struct {
	kind   kind
	decode func(d *decoder, in *msgIn) (*pb.ClientMessage, error)
	// action completes "Could not ..." in a refusal's notification.
	action string
	// beforeHi: accepted before the handshake (MPP accepts devices).
	beforeHi bool
	// why an unsupported message is refused.
	why string
}

// messages is the one table of the MPP client messages we know.
var messages = map[string]spec{
	"hi":      {kind: hello, beforeHi: true},
	"bye":     {kind: goodbye, beforeHi: true},
	"t":       {decode: decodePing, action: "sync time"},
	"ch":      {decode: decodeJoin, action: "join the channel"},
	"n":       {decode: decodeNotes, action: "play"},
	"a":       {decode: decodeChat, action: "send the message"},
	"m":       {decode: decodeCursor, action: "move the cursor"},
	"userset": {decode: decodeUserSet, action: "change your name or color"},
	"chset":   {decode: decodeChSet, action: "change the channel settings"},
	"chown":   {decode: decodeChown, action: "move the crown"},
	"kickban": {decode: decodeKickban, action: "ban"},
	"unban":   {decode: decodeUnban, action: "unban"},
	"+ls":     {decode: watchRooms(true), action: "list the channels"},
	"-ls":     {decode: watchRooms(false)},
	"devices": {kind: ignored, beforeHi: true},
	"+custom": {kind: ignored},
	"-custom": {kind: ignored},
	"custom":  {kind: unsupported, why: "custom messages are not supported here"},
	"dm":      {kind: unsupported, why: "direct messages are not supported here"},
}

// decoded is one accepted MPP message.
type decoded struct {
	name  string
	kind  kind
	msg   *pb.ClientMessage
	token string // hi
}

// decoder holds what decoding needs beyond the frame.
type decoder struct {
	// self is the client's user id ("" before the welcome): chown to
	// oneself is picking up the crown.
	self string
}

// msgIn holds every field of every MPP client message we read, so that a
// frame decodes in one pass (into []msgIn) in the common case; each
// message's decoder reads the fields its message has.
type msgIn struct {
	M       *string   `json:"m"`
	UserID  *string   `json:"_id"`
	ID      *string   `json:"id"`
	T       optNumber `json:"t"`
	E       optNumber `json:"e"`
	N       []noteIn  `json:"n"`
	Message *string   `json:"message"`
	X       optNumber `json:"x"`
	Y       optNumber `json:"y"`
	Ms      optNumber `json:"ms"`
	Set     *setIn    `json:"set"`
	Token   any       `json:"token"`
}

// setIn is the set of ch and chset (channel settings) and of userset
// (name, color).
type setIn struct {
	settingsIn
	Name *string `json:"name"`
}

// decodeFrame parses one MPP frame. It returns the messages accepted, in
// order, and an error naming each message refused (several joined) or why
// the whole frame was; a refused message never stops the others.
func decodeFrame(data []byte, d *decoder, maxBytes, maxMessages int) ([]decoded, error) {
	switch {
	case len(data) > maxBytes:
		return nil, refuse("", "a frame holds at most %d bytes", maxBytes)
	case !utf8.Valid(data):
		return nil, refuse("", "a frame must be valid UTF-8 text")
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		if !json.Valid(data) {
			return nil, refuse("", "a frame must be JSON")
		}
		return nil, refuse("", "a frame is a JSON array of messages")
	}
	// One pass when every message is well formed; otherwise message by
	// message, so that each refusal is its own and the others go through.
	var all []msgIn
	if err := json.Unmarshal(data, &all); err == nil {
		if len(all) > maxMessages {
			return nil, refuse("", "a frame holds at most %d messages", maxMessages)
		}
		return interpretAll(d, len(all), func(i int) (*msgIn, error) { return &all[i], nil })
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, refuse("", "a frame must be JSON")
	}
	if len(raws) > maxMessages {
		return nil, refuse("", "a frame holds at most %d messages", maxMessages)
	}
	return interpretAll(d, len(raws), func(i int) (*msgIn, error) { return readMessage(i, raws[i]) })
}

func interpretAll(d *decoder, n int, read func(int) (*msgIn, error)) ([]decoded, error) {
	out := make([]decoded, 0, n)
	var errs []error
	for i := range n {
		in, err := read(i)
		if err == nil {
			var m decoded
			if m, err = interpret(d, i, in); err == nil {
				out = append(out, m)
				continue
			}
		}
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// readMessage decodes one message on its own, to say what is wrong with it.
func readMessage(i int, raw []byte) (*msgIn, error) {
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' {
		return nil, refuse("", "message %d is not an object", i+1)
	}
	var head struct {
		M *string `json:"m"`
	}
	if json.Unmarshal(raw, &head) != nil || head.M == nil {
		return nil, refuse("", "message %d has no string m", i+1)
	}
	var in msgIn
	err := json.Unmarshal(raw, &in)
	in.M = head.M // a bad field may have stopped decoding before m
	if err != nil {
		name := *in.M
		sp, ok := messages[name]
		switch {
		case !ok:
			return nil, refuse(shortName(name), "unknown message")
		case sp.kind == unsupported:
			return nil, refuse(name, "%s", sp.why)
		}
		return nil, refuse(name, "%s", fieldError(err))
	}
	return &in, nil
}

// interpret turns one decoded message into what the edge does with it.
func interpret(d *decoder, i int, in *msgIn) (decoded, error) {
	if in.M == nil {
		return decoded{}, refuse("", "message %d has no string m", i+1)
	}
	name := *in.M
	sp, ok := messages[name]
	if !ok {
		return decoded{}, refuse(shortName(name), "unknown message")
	}
	out := decoded{name: name, kind: sp.kind}
	switch sp.kind {
	case unsupported:
		return decoded{}, refuse(name, "%s", sp.why)
	case hello:
		switch t := in.Token.(type) {
		case nil:
		case string:
			out.token = t
		default:
			return decoded{}, refuse(name, "token must be a string")
		}
	case forward:
		msg, err := sp.decode(d, in)
		if err != nil {
			return decoded{}, err
		}
		// The echoed id tells a refusal which MPP message it answers.
		msg.Id = name
		out.msg = msg
	}
	return out, nil
}

// shortName keeps an unknown name readable in a notification.
func shortName(s string) string {
	if utf8.RuneCountInString(s) > 32 {
		return string([]rune(s)[:32]) + "..."
	}
	return s
}

// fieldError turns encoding/json's errors into text for a person.
func fieldError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "the message"
		}
		return fmt.Sprintf("%s must be %s, not %s", field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	return err.Error()
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "a number"
}

// visibleText applies MPP's rule for text others see: not empty, not only
// spaces, none of the characters that break a line or reverse text, at
// most maxRunes characters.
func visibleText(s string, maxRunes int) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("must not be empty")
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return fmt.Errorf("must be at most %d characters", maxRunes)
	}
	if i := strings.IndexAny(s, "\n\r\v\x00\t\u202e\u2066\u2067\u202b\u200f"); i >= 0 {
		return fmt.Errorf("must not contain %q", []rune(s[i:])[0])
	}
	return nil
}

func decodePing(_ *decoder, in *msgIn) (*pb.ClientMessage, error) {
	var e int64
	if in.E.set {
		t, err := msTime("e", in.E.v)
		if err != nil {
			return nil, refuse("t", "%s", err)
		}
		e = t
	}
	return &pb.ClientMessage{Payload: &pb.ClientMessage_Ping{Ping: &pb.Ping{ClientTime: e}}}, nil
}

// msTime is an MPP time (ms, possibly fractional) as our int64 ms.
func msTime(field string, v float64) (int64, error) {
	f := math.Floor(v)
	if f < 0 || f >= maxTime {
		return 0, fmt.Errorf("%s must be a time in milliseconds", field)
	}
	return int64(f), nil
}

func decodeJoin(_ *decoder, in *msgIn) (*pb.ClientMessage, error) {
	if in.UserID == nil {
		return nil, refuse("ch", "_id (the channel name) is missing")
	}
	channel := *in.UserID
	if err := visibleText(channel, maxChannelRunes-1); err != nil {
		return nil, refuse("ch", "the channel name %s", err)
	}
	settings, err := roomSettings(in.settings())
	if err != nil {
		return nil, refuse("ch", "set: %s", err)
	}
	room := RoomID(channel)
	if name := createName(channel, room); name != "" {
		settings.Name = &name
	}
	return &pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{
		Room: room, Create: true, Settings: settings,
	}}}, nil
}

func (in *msgIn) settings() *settingsIn {
	if in.Set == nil {
		return nil
	}
	return &in.Set.settingsIn
}

// noteIn is one MPP note as a client sends it. Its fields allocate
// nothing: a batch holds up to 300 notes.
type noteIn struct {
	N key       `json:"n"`
	V optNumber `json:"v"`
	D optNumber `json:"d"`
	S optFlag   `json:"s"`
}

func decodeNotes(_ *decoder, in *msgIn) (*pb.ClientMessage, error) {
	if !in.T.set || in.N == nil {
		return nil, refuse("n", "t (the batch time) and n (the notes) are required")
	}
	t, err := msTime("t", in.T.v)
	if err != nil {
		return nil, refuse("n", "%s", err)
	}
	if len(in.N) > maxNoteEvents {
		return nil, refuse("n", "a batch holds at most %d notes", maxNoteEvents)
	}
	// One allocation for the batch's events.
	store := make([]pb.NoteEvent, len(in.N))
	events := make([]*pb.NoteEvent, len(in.N))
	for i, n := range in.N {
		if err := noteEvent(n, &store[i]); err != nil {
			return nil, refuse("n", "note %d: %s", i+1, err)
		}
		events[i] = &store[i]
	}
	return &pb.ClientMessage{Payload: &pb.ClientMessage_Notes{Notes: &pb.NoteBatch{Time: t, Events: events}}}, nil
}

// noteEvent maps one MPP note: s set is a note off, otherwise a note on
// (velocity v, MPP's default 0.5 without it); d is the delay.
func noteEvent(n noteIn, e *pb.NoteEvent) error {
	switch {
	case n.N.bad != "":
		return errors.New(n.N.bad)
	case n.N.midi == 0:
		return errors.New("n (the key) is missing")
	}
	e.Kind, e.Note, e.Velocity = pb.NoteKind_NOTE_ON, n.N.midi, defaultVelocity
	if n.S.set && n.S.v {
		e.Kind, e.Velocity = pb.NoteKind_NOTE_OFF, 0
	} else if n.V.set {
		e.Velocity = MIDIVelocity(n.V.v)
	}
	if n.D.set {
		d := math.Round(n.D.v)
		if d < 0 || d > maxDelayMs {
			return fmt.Errorf("d must be 0-%d ms", maxDelayMs)
		}
		e.DelayMs = uint32(d)
	}
	return nil
}

func decodeChat(_ *decoder, in *msgIn) (*pb.ClientMessage, error) {
	if in.Message == nil {
		return nil, refuse("a", "message is missing")
	}
	if err := visibleText(*in.Message, maxChatRunes); err != nil {
		return nil, refuse("a", "the message %s", err)
	}
	return &pb.ClientMessage{Payload: &pb.ClientMessage_Chat{Chat: &pb.ChatSend{Text: *in.Message}}}, nil
}

func decodeCursor(_ *decoder, in *msgIn) (*pb.ClientMessage, error) {
	if !in.X.set || !in.Y.set {
		return nil, refuse("m", "x and y are required")
	}
	return &pb.ClientMessage{Payload: &pb.ClientMessage_Cursor{Cursor: &pb.Cursor{X: in.X.v, Y: in.Y.v}}}, nil
}

func decodeUserSet(_ *decoder, in *msgIn) (*pb.ClientMessage, error) {
	if in.Set == nil || in.Set.Name == nil && in.Set.Color == nil {
		return nil, refuse("userset", "set needs a name or a color")
	}
	p := &pb.SetProfile{}
	if in.Set.Name != nil {
		if err := visibleText(*in.Set.Name, maxUserNameRunes); err != nil {
			return nil, refuse("userset", "the name %s", err)
		}
		name := strings.TrimSpace(*in.Set.Name)
		p.Name = &name
	}
	if in.Set.Color != nil {
		c, err := parseColor(*in.Set.Color)
		if err != nil {
			return nil, refuse("userset", "color %s", err)
		}
		p.Color = &c
	}
	return &pb.ClientMessage{Payload: &pb.ClientMessage_SetProfile{SetProfile: p}}, nil
}

func decodeChSet(_ *decoder, in *msgIn) (*pb.ClientMessage, error) {
	if in.Set == nil {
		return nil, refuse("chset", "set is missing")
	}
	s, err := roomSettings(in.settings())
	if err != nil {
		return nil, refuse("chset", "set: %s", err)
	}
	return &pb.ClientMessage{Payload: &pb.ClientMessage_RoomSettings{RoomSettings: &pb.RoomSettingsChange{Settings: s}}}, nil
}

// decodeChown: giving the crown to someone is a transfer; to oneself it is
// picking up a free crown (our claim). Dropping it (no id) has no
// counterpart: our owner keeps the seat until leaving or giving it away.
func decodeChown(d *decoder, in *msgIn) (*pb.ClientMessage, error) {
	if in.ID == nil || *in.ID == "" {
		return nil, refuse("chown", "dropping the crown is not supported here; give it to someone with chown {id}")
	}
	target := *in.ID
	if target == d.self {
		target = ""
	}
	return &pb.ClientMessage{Payload: &pb.ClientMessage_TransferOwner{TransferOwner: &pb.TransferOwner{UserId: target}}}, nil
}

func decodeKickban(_ *decoder, in *msgIn) (*pb.ClientMessage, error) {
	if in.UserID == nil || *in.UserID == "" || !in.Ms.set {
		return nil, refuse("kickban", "_id (the user) and ms (the ban) are required")
	}
	ms := in.Ms.v
	if ms < 0 || ms > maxBanMs {
		return nil, refuse("kickban", "ms must be 0-%d", maxBanMs)
	}
	// Rounded up: a ban of 500 ms is a ban, not a plain kick.
	secs := int64(math.Ceil(ms / 1000))
	return &pb.ClientMessage{Payload: &pb.ClientMessage_Kick{Kick: &pb.Kick{UserId: *in.UserID, BanSeconds: secs}}}, nil
}

func decodeUnban(_ *decoder, in *msgIn) (*pb.ClientMessage, error) {
	if in.UserID == nil || *in.UserID == "" {
		return nil, refuse("unban", "_id (the user) is required")
	}
	return &pb.ClientMessage{Payload: &pb.ClientMessage_Unban{Unban: &pb.Unban{UserId: *in.UserID}}}, nil
}

func watchRooms(watch bool) func(*decoder, *msgIn) (*pb.ClientMessage, error) {
	return func(*decoder, *msgIn) (*pb.ClientMessage, error) {
		return &pb.ClientMessage{Payload: &pb.ClientMessage_WatchRooms{WatchRooms: &pb.WatchRooms{Watch: watch}}}, nil
	}
}
