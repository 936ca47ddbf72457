package mpp

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Participant ids: our user is MPP's user (_id = user id), and since a
// user holds at most one seat per room, the participant is the user too
// (id = user id), as on multiplayerpiano.net. So n.p, m.id, bye.p, ch.p
// and the crown name a member by user id, and every message about a
// member is encoded without knowing who receives it.

// Encode returns the MPP frame of m that is the same for every MPP
// recipient: notes, chat, arrivals and profile changes, departures,
// cursors, the room list, pongs, quotas and errors. It returns nil when m
// has no such form: either it has no MPP counterpart (ack, friends) or its
// MPP form depends on the recipient's session (welcome, roomJoined,
// roomUpdated, ownerChanged, kicked; see Session.Deliver). It is safe for
// concurrent use; the edge computes it once per frame, like the other
// wire formats.
func Encode(m *pb.ServerMessage) ([]byte, error) {
	b, err := encode(nil, m)
	if err != nil {
		return nil, fmt.Errorf("encode mpp %T: %w", m.GetPayload(), err)
	}
	if len(b) == 0 {
		return nil, nil
	}
	return b, nil
}

// encode appends the shared MPP frame of m to b; nil without one.
func encode(b []byte, m *pb.ServerMessage) ([]byte, error) {
	switch p := m.GetPayload().(type) {
	case *pb.ServerMessage_Notes:
		return appendNoteFrame(b, p.Notes), nil
	case *pb.ServerMessage_Cursor:
		return appendCursorFrame(b, p.Cursor), nil
	case *pb.ServerMessage_Chat:
		return frame(b, chatOut(p.Chat.GetMessage()))
	case *pb.ServerMessage_UserJoined:
		return frame(b, arrival(p.UserJoined.GetMember().GetUser()))
	case *pb.ServerMessage_MemberUpdated:
		return frame(b, participantMsg{M: "p", participantOut: participant(p.MemberUpdated.GetUser())})
	case *pb.ServerMessage_UserLeft:
		return frame(b, byeOut{M: "bye", P: p.UserLeft.GetUserId()})
	case *pb.ServerMessage_ChatCleared:
		return frame(b, historyOut{M: "c", C: []chatMsg{}})
	case *pb.ServerMessage_RoomList:
		return frame(b, listOut(true, p.RoomList.GetRooms(), nil))
	case *pb.ServerMessage_RoomsChanged:
		return frame(b, listOut(false, p.RoomsChanged.GetRooms(), p.RoomsChanged.GetRemoved()))
	case *pb.ServerMessage_Pong:
		return frame(b, pongOut(p.Pong))
	case *pb.ServerMessage_NoteQuota:
		return frame(b, quotaOut(p.NoteQuota))
	case *pb.ServerMessage_Achievement:
		return frame(b, achievementNotification(p.Achievement))
	case *pb.ServerMessage_Error:
		if m.GetId() == "m" {
			return nil, nil // refused cursors are dropped silently, as MPP does
		}
		return frame(b, errorNotification(m.GetId(), p.Error))
	}
	return nil, nil
}

// achievementNotification tells an MPP client what it unlocked (MPP has no
// achievements; a notification is how its clients show news).
func achievementNotification(a *pb.AchievementUnlocked) notificationOut {
	title := a.GetTitle()
	if title == "" {
		title = a.GetAchievementId()
	}
	text := "You unlocked " + strconv.Quote(title)
	if a.GetThreshold() > 0 && a.GetMetric() != "" {
		text += " (" + strconv.FormatInt(a.GetThreshold(), 10) + " " + strings.ReplaceAll(a.GetMetric(), "_", " ") + ")"
	}
	return notification("Achievement unlocked", text+".")
}

// frame appends msgs as one MPP frame (a JSON array).
func frame(b []byte, msgs ...any) ([]byte, error) {
	js, err := json.Marshal(msgs)
	if err != nil {
		return nil, err
	}
	return append(b, js...), nil
}

// appendNoteFrame is the hot path, written out by hand:
// [{"m":"n","t":T,"p":"user","n":[...]}]; nil when no event has an MPP
// form (pedal only, or keys off the MPP keyboard).
func appendNoteFrame(b []byte, nb *pb.NoteBatch) []byte {
	start := len(b)
	b = append(b, `[{"m":"n","t":`...)
	b = strconv.AppendInt(b, nb.GetTime(), 10)
	b = append(b, `,"p":`...)
	b = appendString(b, nb.GetUserId())
	b = append(b, `,"n":[`...)
	b, n := appendNotes(b, nb.GetEvents())
	if n == 0 {
		return b[:start]
	}
	return append(b, "]}]"...)
}

// appendCursorFrame: [{"m":"m","id":"user","x":X,"y":Y}].
func appendCursorFrame(b []byte, c *pb.Cursor) []byte {
	b = append(b, `[{"m":"m","id":`...)
	b = appendString(b, c.GetUserId())
	b = append(b, `,"x":`...)
	b = strconv.AppendFloat(b, c.GetX(), 'f', -1, 64)
	b = append(b, `,"y":`...)
	b = strconv.AppendFloat(b, c.GetY(), 'f', -1, 64)
	return append(b, "}]"...)
}

// tagOut marks staff, as MPP shows its own.
type tagOut struct {
	Text  string `json:"text"`
	Color string `json:"color"`
}

var (
	adminTag = &tagOut{Text: "ADMIN", Color: "#f55"}
	modTag   = &tagOut{Text: "MOD", Color: "#0a0"}
)

// participantOut is MPP participant info (without the mouse position,
// which a session adds when it knows it).
type participantOut struct {
	UserID string  `json:"_id"`
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Color  string  `json:"color"`
	Tag    *tagOut `json:"tag,omitempty"`
}

func participant(u *pb.User) participantOut {
	p := participantOut{UserID: u.GetId(), ID: u.GetId(), Name: u.GetDisplayName(), Color: u.GetColor()}
	if p.Name == "" {
		p.Name = u.GetUsername()
	}
	if p.Name == "" {
		p.Name = "Anonymous"
	}
	if p.Color == "" {
		p.Color = colorOf(u.GetId())
	}
	for _, r := range u.GetRoles() {
		switch {
		case r == pb.Role_ADMIN:
			p.Tag = adminTag
		case r == pb.Role_MODERATOR && p.Tag == nil:
			p.Tag = modTag
		}
	}
	return p
}

// colorOf is a stable color for a user without one (MPP clients need one
// to draw the name and cursor).
func colorOf(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	v := h.Sum32()
	// Keep each channel in 0x40-0xdf: readable on dark and light.
	r, g, bl := 0x40+byte(v)%0xa0, 0x40+byte(v>>8)%0xa0, 0x40+byte(v>>16)%0xa0
	return fmt.Sprintf("#%02x%02x%02x", r, g, bl)
}

// participantMsg is `p`; X and Y are set when known.
type participantMsg struct {
	M string `json:"m,omitempty"`
	participantOut
	X *float64 `json:"x,omitempty"`
	Y *float64 `json:"y,omitempty"`
}

// MPP's "no position yet": off screen, where the protocol says cursors
// start.
var (
	unsetX = 200.0
	unsetY = 100.0
)

// arrival is the `p` of a member who just joined: no position yet.
func arrival(u *pb.User) participantMsg {
	return participantMsg{M: "p", participantOut: participant(u), X: &unsetX, Y: &unsetY}
}

type byeOut struct {
	M string `json:"m"`
	P string `json:"p"`
}

// chatMsg is `a`, also an entry of `c`.
type chatMsg struct {
	M  string         `json:"m"`
	ID string         `json:"id,omitempty"`
	A  string         `json:"a"`
	P  participantOut `json:"p"`
	T  int64          `json:"t"`
}

// chatOut carries the sender as the message names them (name and color at
// the time), so it needs no member list.
func chatOut(c *pb.ChatMessage) chatMsg {
	p := participant(&pb.User{Id: c.GetUserId(), DisplayName: c.GetDisplayName(), Color: c.GetColor()})
	if c.GetSystem() && c.GetDisplayName() == "" {
		p.Name = "PianoRhythm"
	}
	return chatMsg{M: "a", ID: c.GetId(), A: c.GetText(), P: p, T: c.GetSentAt().AsTime().UnixMilli()}
}

type historyOut struct {
	M string    `json:"m"`
	C []chatMsg `json:"c"`
}

// maxHistory is how much chat history MPP sends a joiner.
const maxHistory = 32

func history(msgs []*pb.ChatMessage) historyOut {
	if len(msgs) > maxHistory {
		msgs = msgs[len(msgs)-maxHistory:]
	}
	out := historyOut{M: "c", C: make([]chatMsg, len(msgs))}
	for i, c := range msgs {
		out.C[i] = chatOut(c)
	}
	return out
}

type lsOut struct {
	M string       `json:"m"`
	C bool         `json:"c"`
	U []channelOut `json:"u"`
}

// listOut is `ls`: complete (the answer to +ls) or an update. A room that
// is gone is sent with count 0, as MPP servers do (MPP has no removal).
func listOut(complete bool, rooms []*pb.Room, removed []string) lsOut {
	out := lsOut{M: "ls", C: complete, U: make([]channelOut, 0, len(rooms)+len(removed))}
	for _, r := range rooms {
		out.U = append(out.U, listedChannel(r))
	}
	for _, id := range removed {
		out.U = append(out.U, channelOut{Name: id, ID: id, Settings: settingsOut{Color: defaultRoomColor}})
	}
	return out
}

type tOut struct {
	M string `json:"m"`
	T int64  `json:"t"`
	E *int64 `json:"e,omitempty"`
}

func pongOut(p *pb.Pong) tOut {
	out := tOut{M: "t", T: p.GetServerTime()}
	if e := p.GetClientTime(); e != 0 {
		out.E = &e
	}
	return out
}

type nqOut struct {
	M          string `json:"m"`
	Allowance  int32  `json:"allowance"`
	Max        int32  `json:"max"`
	MaxHistLen int    `json:"maxHistLen"`
}

// Unlimited as MPP clients know it.
const (
	unlimitedAllowance = 1_000_000
	unlimitedMax       = 3_000_000
	quotaHistory       = 3
)

// quotaOut: MPP's allowance is what refills every 2 s (ours: refill),
// not what is left; without a refill (an older edge) it is max/3, which
// holds for every quota of ours (200/600, 400/1200, 600/1800).
func quotaOut(q *pb.NoteQuota) nqOut {
	out := nqOut{M: "nq", Allowance: q.GetRefill(), Max: q.GetMax(), MaxHistLen: quotaHistory}
	if q.GetMax() < 0 {
		out.Allowance, out.Max = unlimitedAllowance, unlimitedMax
	} else if out.Allowance <= 0 {
		out.Allowance = q.GetMax() / 3
	}
	return out
}
