package room

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// maxChatRunes is the longest chat message, in characters.
const maxChatRunes = 512

// cleanChat validates a chat text: valid UTF-8, control characters removed
// (a newline is kept), surrounding space trimmed, then 1-512 characters.
func cleanChat(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", refuse(ReasonInvalid, "chat must be valid UTF-8")
	}
	clean := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\n' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, text))
	n := utf8.RuneCountInString(clean)
	if n < 1 || n > maxChatRunes {
		return "", refuse(ReasonInvalid, "chat must be 1-512 characters")
	}
	return clean, nil
}

// chat posts a message from a member, within the rate limit.
func (a *roomActor) chat(ctx context.Context, m chatCmd) (*pb.ChatMessage, error) {
	id := m.caller
	member, err := a.member(ctx, id.UserID)
	if err != nil {
		return nil, err
	}
	if member == nil {
		return nil, refuse(ReasonNotInRoom, "join the room to chat")
	}
	if a.room == nil || a.c.now().Sub(a.roomAt) >= a.c.opt.CacheTTL {
		if _, err := a.loadRoom(ctx); err != nil {
			return nil, err
		}
	}
	r := a.room
	owner := !r.GetLobby() && r.GetOwnerId() == id.UserID
	if r.GetSettings().GetOnlyOwnerCanChat() && !owner && !id.Staff() {
		return nil, refuse(ReasonPermission, "only the owner may chat in this room")
	}
	limit := a.c.opt.ChatLimit
	if owner {
		limit = a.c.opt.OwnerChatLimit
	}
	cctx, cancel := a.c.call(ctx)
	hit, err := a.c.state.Hit(cctx, &pb.HitRequest{
		Key:    "chat:" + a.id + ":" + id.UserID,
		Limit:  limit,
		Window: durationpb.New(a.c.opt.ChatWindow),
	})
	cancel()
	if err != nil {
		return nil, fromState("chat rate", err)
	}
	if !hit.GetAllowed() {
		return nil, refuse(ReasonRateLimited, "you are chatting too fast")
	}
	u := member.GetUser()
	name := u.GetDisplayName()
	if id.DisplayName != "" {
		name = id.DisplayName
	}
	msg := &pb.ChatMessage{
		Id:          uuid.NewString(),
		RoomId:      a.id,
		UserId:      id.UserID,
		DisplayName: name,
		Color:       u.GetColor(),
		Text:        m.text,
		SentAt:      timestamppb.New(a.c.now()),
	}
	cctx, cancel = a.c.call(ctx)
	saved, err := a.c.state.SaveChatMessage(cctx, &pb.SaveChatMessageRequest{Message: msg})
	cancel()
	if err != nil {
		return nil, fromState("save chat message", err)
	}
	if saved == nil || saved.GetId() == "" {
		saved = msg
	}
	a.c.publish(ctx, a.id, func(e *pb.RoomEvent) {
		e.Event = &pb.RoomEvent_Chat{Chat: &pb.ChatPosted{Message: saved}}
	})
	a.c.emit(ctx, pb.EventType_EVENT_TYPE_CHAT, id.UserID, a.id, 1)
	return saved, nil
}

// deleteChat removes one message (staff only).
func (a *roomActor) deleteChat(ctx context.Context, m chatDeleteCmd) error {
	if !m.caller.Staff() {
		return refuse(ReasonPermission, "only moderators may delete messages")
	}
	cctx, cancel := a.c.call(ctx)
	_, err := a.c.state.DeleteChatMessage(cctx, &pb.DeleteChatMessageRequest{RoomId: a.id, MessageId: m.messageID})
	cancel()
	if err != nil {
		return fromState("delete chat message", err)
	}
	a.c.publish(ctx, a.id, func(e *pb.RoomEvent) {
		e.Event = &pb.RoomEvent_ChatDeleted{ChatDeleted: &pb.ChatDeleted{RoomId: a.id, MessageId: m.messageID}}
	})
	return nil
}

// clearChat removes the room's whole chat (staff only).
func (a *roomActor) clearChat(ctx context.Context, m chatClearCmd) error {
	if !m.caller.Staff() {
		return refuse(ReasonPermission, "only moderators may clear the chat")
	}
	cctx, cancel := a.c.call(ctx)
	_, err := a.c.state.ClearChat(cctx, &pb.ClearChatRequest{RoomId: a.id})
	cancel()
	if err != nil {
		return fromState("clear chat", err)
	}
	a.c.publish(ctx, a.id, func(e *pb.RoomEvent) {
		e.Event = &pb.RoomEvent_ChatCleared{ChatCleared: &pb.ChatCleared{RoomId: a.id}}
	})
	return nil
}
