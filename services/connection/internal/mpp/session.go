package mpp

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"
)

// DefaultMOTD is the hi's message of the day when Config.MOTD is empty.
const DefaultMOTD = "Welcome to PianoRhythm, speaking Multiplayer Piano."

// Config configures a Session. Every zero field takes its default.
type Config struct {
	// MOTD is the message of the day in the answer to hi; "" means
	// DefaultMOTD.
	MOTD string
	// CursorRate is how many cursor positions per second a client may
	// send, CursorBurst how many at once; over it they are dropped
	// silently, as MPP does. Zero means 20 per second (what MPP's browser
	// client sends at most) and a burst of 10.
	CursorRate  float64
	CursorBurst int
	// MaxFrameBytes and MaxMessages bound one frame; zero means 64 KiB and
	// 64 messages.
	MaxFrameBytes int
	MaxMessages   int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.MOTD == "" {
		c.MOTD = DefaultMOTD
	}
	if c.CursorRate <= 0 {
		c.CursorRate = 20
	}
	if c.CursorBurst <= 0 {
		c.CursorBurst = 10
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if c.MaxMessages <= 0 {
		c.MaxMessages = DefaultMaxMessages
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Session is the MPP side of one /mpp connection: the hi handshake, the
// cursor rate limit, and what the client knows of its channel (the
// participants, their cursors, the crown), from which MPP's whole-channel
// message ch is built when our room changes.
//
// Everything the connection sends goes through the session, in one order:
// Deliver for every server message (room broadcasts and direct replies
// alike), and Decode's own answers (hi, notifications). The session pushes
// the bytes with the push function given to NewSession while holding its
// lock, so the order of pushes is the order the session saw them; push
// must not block (a bounded send queue).
//
// A Session is safe for concurrent use.
type Session struct {
	cfg  Config
	push func([]byte) bool

	mu      sync.Mutex
	self    *pb.User
	welcome *pb.Welcome
	saidHi  bool // the client's hi arrived
	greeted bool // answered
	cursors *rate.Limiter

	// The channel as the client knows it; room is nil outside one.
	room *pb.Room
	ppl  []*member
	// ownerLeft is when the owner was seen leaving (ms); previousOwner
	// who held a seat that fell free.
	ownerLeft     int64
	previousOwner string
	// crownFrom is where the owner's cursor was when they left: where the
	// dropped crown falls from.
	crownFrom *pos
}

// member is one participant as the session knows them.
type member struct {
	user  *pb.User
	x, y  float64
	moved bool
}

// NewSession returns the session of a connection whose frames push
// queues (false: the queue refused the frame, the connection is closing).
func NewSession(cfg Config, push func(frame []byte) bool) *Session {
	cfg = cfg.withDefaults()
	s := &Session{cfg: cfg, push: push}
	s.cursors = rate.NewLimiter(rate.Limit(cfg.CursorRate), cfg.CursorBurst)
	return s
}

// challenge is multiplayerpiano.net's anti-bot "b": its browser client
// sends hi only after it, answering with the result of running code. Ours
// asks nothing (the code returns null); older clients and bots ignore it.
var challenge = []byte(`[{"m":"b","code":"~return null"}]`)

// Open pushes what an MPP server sends when the socket opens (the b
// challenge); the edge calls it once, before anything else.
func (s *Session) Open() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.push(challenge)
}

// Input is what one MPP frame asks of the edge.
type Input struct {
	// Messages are client messages of our protocol, in the client's
	// order, for the edge to handle as any other. Each has id set to the
	// MPP message name: an error reply echoes it, which tells the
	// notification what failed.
	Messages []*pb.ClientMessage
	// Hello: this frame held the client's hi. The session answers it as
	// soon as the welcome has gone through Deliver.
	Hello bool
	// Token is the hi's token ("" for none): a token as /ws takes it,
	// which signs the connection in as its account.
	Token string
	// Bye: the client said bye; close the connection normally after
	// Messages. What followed bye in the frame was not read.
	Bye bool
}

// Decode reads one frame from the client. Messages it refuses (bad JSON,
// unknown m, wrong field types, over our limits, anything but hi before
// hi) are answered at once with one notification, and returned as the
// error (an *Error, or several joined) for the edge's metrics; the
// messages of the frame it accepts are in Input all the same. A binary
// frame is refused: MPP is JSON text.
//
// The frame is parsed without the session's lock, so a large frame never
// holds up the deliveries to this connection.
func (s *Session) Decode(typ websocket.MessageType, data []byte) (Input, error) {
	var (
		items []decoded
		err   error
	)
	if typ != websocket.MessageText {
		err = refuse("", "binary frames are not supported: send JSON text")
	} else {
		s.mu.Lock()
		self := s.self.GetId()
		s.mu.Unlock()
		items, err = decodeFrame(data, &decoder{self: self}, s.cfg.MaxFrameBytes, s.cfg.MaxMessages)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.accept(items, err)
	if err != nil {
		s.pushJSON(refusedNotification(err))
	}
	return in, err
}

// accept applies the session's rules to the decoded messages: hi first,
// one hi, nothing after bye, the cursor rate.
func (s *Session) accept(items []decoded, err error) (Input, error) {
	var in Input
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, it := range items {
		if !s.saidHi && !messages[it.name].beforeHi {
			errs = append(errs, refuse(it.name, "send hi first"))
			continue
		}
		switch it.kind {
		case hello:
			if s.saidHi {
				continue // MPP answers one hi per connection
			}
			s.saidHi, in.Hello, in.Token = true, true, it.token
			if s.welcome != nil {
				s.greet()
			}
		case goodbye:
			in.Bye = true
			return in, errors.Join(errs...)
		case forward:
			if it.msg.GetCursor() != nil && !s.cursors.AllowN(s.cfg.Now(), 1) {
				continue
			}
			in.Messages = append(in.Messages, it.msg)
		}
	}
	return in, errors.Join(errs...)
}

// Notify pushes a notification of the edge's own (a refused token, a
// ban) with title and text.
func (s *Session) Notify(title, text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushJSON(notification(title, text))
}

// Refuse pushes the notification for err (the edge's own refusals of what
// the client sent, such as a frame over the size limit).
func (s *Session) Refuse(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushJSON(refusedNotification(err))
}

// Deliver pushes the MPP form of m for this connection and updates what
// the session knows of the channel. shared is Encode(m), computed once per
// frame for all recipients (nil: the session encodes it when needed). It
// returns false when push refused the frame. Messages of a room other than
// the session's (late frames of a room just left) are dropped: the client
// no longer has that channel.
func (s *Session) Deliver(m *pb.ServerMessage, shared []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch p := m.GetPayload().(type) {
	case *pb.ServerMessage_Welcome:
		s.welcome, s.self = p.Welcome, p.Welcome.GetUser()
		if s.saidHi {
			return s.greet()
		}
		return true
	case *pb.ServerMessage_Profile:
		s.self = p.Profile.GetUser()
		return true // the channel hears of it as memberUpdated (p)
	case *pb.ServerMessage_RoomJoined:
		return s.joined(p.RoomJoined)
	case *pb.ServerMessage_UserJoined:
		if !s.inRoom(p.UserJoined.GetRoomId()) {
			return true
		}
		return s.arrived(p.UserJoined.GetMember().GetUser(), m, shared)
	case *pb.ServerMessage_UserLeft:
		if !s.inRoom(p.UserLeft.GetRoomId()) {
			return true
		}
		return s.left(p.UserLeft, m, shared)
	case *pb.ServerMessage_MemberUpdated:
		if !s.inRoom(p.MemberUpdated.GetRoomId()) {
			return true
		}
		u := p.MemberUpdated.GetUser()
		if mb := s.member(u.GetId()); mb != nil {
			mb.user = u
		}
		if u.GetId() == s.self.GetId() {
			s.self = u
		}
	case *pb.ServerMessage_Cursor:
		if mb := s.member(p.Cursor.GetUserId()); mb != nil {
			mb.x, mb.y, mb.moved = p.Cursor.GetX(), p.Cursor.GetY(), true
		}
	case *pb.ServerMessage_Chat:
		if id := p.Chat.GetMessage().GetRoomId(); id != "" && !s.inRoom(id) {
			return true
		}
	case *pb.ServerMessage_RoomUpdated:
		if !s.inRoom(p.RoomUpdated.GetRoom().GetId()) {
			return true
		}
		s.room = p.RoomUpdated.GetRoom()
		return s.pushChannel(false)
	case *pb.ServerMessage_OwnerChanged:
		oc := p.OwnerChanged
		if !s.inRoom(oc.GetRoomId()) {
			return true
		}
		r := proto.CloneOf(s.room)
		r.OwnerId, r.OwnerLeftAt = oc.GetOwnerId(), nil
		s.room, s.ownerLeft, s.previousOwner, s.crownFrom = r, 0, oc.GetPreviousOwnerId(), nil
		return s.pushChannel(false)
	case *pb.ServerMessage_Kicked:
		if !s.inRoom(p.Kicked.GetRoomId()) {
			return true
		}
		return s.kicked(p.Kicked)
	}
	return s.pushShared(m, shared)
}

func (s *Session) pushShared(m *pb.ServerMessage, shared []byte) bool {
	if shared == nil {
		var err error
		if shared, err = Encode(m); err != nil || shared == nil {
			return true // nothing for MPP (an encoding error is a bug: the types are ours)
		}
	}
	return s.push(shared)
}

func (s *Session) pushJSON(msgs ...any) bool {
	b, err := frame(nil, msgs...)
	if err != nil {
		return true
	}
	return s.push(b)
}

func (s *Session) inRoom(id string) bool { return s.room != nil && s.room.GetId() == id }

func (s *Session) member(id string) *member {
	for _, mb := range s.ppl {
		if mb.user.GetId() == id {
			return mb
		}
	}
	return nil
}

func (s *Session) present(id string) bool { return s.member(id) != nil }

// userOut is the hi's u: participant info without id.
type userOut struct {
	UserID string  `json:"_id"`
	Name   string  `json:"name"`
	Color  string  `json:"color"`
	Tag    *tagOut `json:"tag,omitempty"`
}

type hiOut struct {
	M           string   `json:"m"`
	T           int64    `json:"t"`
	U           userOut  `json:"u"`
	Motd        string   `json:"motd"`
	Token       string   `json:"token,omitempty"`
	Permissions struct{} `json:"permissions"`
}

// greet answers the client's hi from the welcome.
func (s *Session) greet() bool {
	s.greeted = true
	p := participant(s.self)
	return s.pushJSON(hiOut{
		M: "hi", T: s.cfg.Now().UnixMilli(), Motd: s.cfg.MOTD, Token: s.welcome.GetToken(),
		U: userOut{UserID: p.UserID, Name: p.Name, Color: p.Color, Tag: p.Tag},
	})
}

type chOut struct {
	M   string           `json:"m"`
	Ch  channelOut       `json:"ch"`
	Ppl []participantMsg `json:"ppl"`
	P   string           `json:"p,omitempty"`
}

// channelMsg is ch for the channel as the session knows it. MPP clients
// replace their participant table with ppl, so it lists every member.
// joining: the answer to the client's ch (p is the client, positions are
// MPP's "unset"); otherwise a channel change (positions only where known,
// so the client keeps the ones it has).
func (s *Session) channelMsg(joining bool) chOut {
	out := chOut{M: "ch", Ppl: make([]participantMsg, 0, len(s.ppl))}
	from := s.crownFrom
	for _, mb := range s.ppl {
		pm := participantMsg{participantOut: participant(mb.user)}
		switch {
		case joining:
			pm.X, pm.Y = &unsetX, &unsetY
		case mb.moved:
			pm.X, pm.Y = &mb.x, &mb.y
		}
		if mb.moved && mb.user.GetId() == s.room.GetOwnerId() {
			from = &pos{X: mb.x, Y: mb.y}
		}
		out.Ppl = append(out.Ppl, pm)
	}
	name := ChannelName(s.room)
	out.Ch = channelOut{
		Name: name, ID: name, Count: len(s.ppl), Settings: mppSettings(s.room),
		Crown: crown(s.room, s.present, s.ownerLeft, s.previousOwner, from),
	}
	if joining {
		out.P = s.self.GetId()
	}
	return out
}

func (s *Session) pushChannel(joining bool) bool { return s.pushJSON(s.channelMsg(joining)) }

// joined answers the client's ch: ch, the chat history as c, and the
// room's welcome message as a notification.
func (s *Session) joined(j *pb.RoomJoined) bool {
	s.room, s.ownerLeft, s.previousOwner, s.crownFrom = j.GetRoom(), 0, "", nil
	s.ppl = s.ppl[:0]
	for _, m := range j.GetMembers() {
		s.ppl = append(s.ppl, &member{user: m.GetUser()})
	}
	msgs := []any{s.channelMsg(true), history(j.GetChatHistory())}
	if w := j.GetWelcomeMessage(); w != "" {
		msgs = append(msgs, notification("Welcome", w))
	}
	return s.pushJSON(msgs...)
}

// arrived: p for everyone; when the owner comes back while the seat is
// held, the crown is theirs again (our room service keeps the seat
// without an event, MPP clients need a ch to see it).
func (s *Session) arrived(u *pb.User, m *pb.ServerMessage, shared []byte) bool {
	if mb := s.member(u.GetId()); mb != nil {
		mb.user = u
	} else {
		s.ppl = append(s.ppl, &member{user: u})
	}
	ok := s.pushShared(m, shared)
	if u.GetId() == s.room.GetOwnerId() && !s.room.GetLobby() && (s.ownerLeft != 0 || s.room.GetOwnerLeftAt() != nil) {
		r := proto.CloneOf(s.room)
		r.OwnerLeftAt = nil
		s.room, s.ownerLeft = r, 0
		ok = s.pushChannel(false) && ok
	}
	return ok
}

// left: bye for everyone; when the owner leaves, MPP's crown drops (our
// seat is held for 15 s, the same countdown MPP clients show from the
// crown's time), so a ch follows. A kicked owner loses the seat: the
// ownerChanged that follows says so.
func (s *Session) left(ul *pb.UserLeft, m *pb.ServerMessage, shared []byte) bool {
	id := ul.GetUserId()
	if id == s.self.GetId() {
		// Our own seat went elsewhere (another connection of the user
		// took it): the client is in no channel any more.
		s.room, s.ppl = nil, s.ppl[:0]
		ok := s.pushShared(m, shared)
		if ul.GetReason() == "moved" {
			ok = s.pushJSON(notification("Moved", "You joined this channel from another connection.")) && ok
		}
		return ok
	}
	if mb := s.member(id); mb != nil && mb.moved && id == s.room.GetOwnerId() {
		s.crownFrom = &pos{X: mb.x, Y: mb.y}
	}
	s.ppl = slices.DeleteFunc(s.ppl, func(mb *member) bool { return mb.user.GetId() == id })
	ok := s.pushShared(m, shared)
	if id == s.room.GetOwnerId() && !s.room.GetLobby() && ul.GetReason() != "kicked" {
		s.ownerLeft = s.cfg.Now().UnixMilli()
		ok = s.pushChannel(false) && ok
	}
	return ok
}

// kicked tells the channel who was kicked or banned, as MPP servers do in
// a notification; the kicked client leaves the channel.
func (s *Session) kicked(k *pb.Kicked) bool {
	name := func(id, unknown string) string {
		if mb := s.member(id); mb != nil {
			return participant(mb.user).Name
		}
		return unknown
	}
	channel := ChannelName(s.room)
	if k.GetUserId() == s.self.GetId() {
		s.room, s.ppl = nil, s.ppl[:0]
		text := fmt.Sprintf("You were kicked from %q.", channel)
		if k.GetBanSeconds() > 0 {
			text = fmt.Sprintf("You were banned from %q for %s.", channel, banLength(k.GetBanSeconds()))
		}
		return s.pushJSON(notification("Kicked", text))
	}
	by, who := name(k.GetByUserId(), "A moderator"), name(k.GetUserId(), "a user")
	text := fmt.Sprintf("%s kicked %s.", by, who)
	if k.GetBanSeconds() > 0 {
		text = fmt.Sprintf("%s banned %s from the channel for %s.", by, who, banLength(k.GetBanSeconds()))
	}
	return s.pushJSON(notification("Notice", text))
}

func banLength(secs int64) string {
	switch {
	case secs < 60:
		return plural(secs, "second")
	case secs%60 == 0 || secs >= 600:
		return plural((secs+59)/60, "minute")
	}
	return plural(secs, "second")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
