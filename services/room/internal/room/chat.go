package room

import (
	"context"
	"errors"
	"github.com/google/uuid"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
	"google.golang.org/protobuf/types/known/emptypb"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/text"
)

// Chat commands.
type (
	chatCmd struct {
		caller auth.Identity
		id     string // the message id, fixed before the actor sees it
		text   string
	}
	chatDeleteCmd struct {
		caller    auth.Identity
		messageID string
	}
	chatClearCmd struct{ caller auth.Identity }
)

func (m chatCmd) run(ctx context.Context, a *roomActor, _ *actor.Context) (any, error) {
	return a.chat(ctx, m)
}

// Idempotent marks a chat command as safe to handle again after the actor
// crashed on it: its message id is fixed, and the state service stores a
// message id once. Every other command may have had effects before the
// crash and is not retried.
func (chatCmd) Idempotent() bool { return true }

func (m chatDeleteCmd) run(ctx context.Context, a *roomActor, _ *actor.Context) (any, error) {
	return nil, a.deleteChat(ctx, m)
}

func (m chatClearCmd) run(ctx context.Context, a *roomActor, _ *actor.Context) (any, error) {
	return nil, a.clearChat(ctx, m)
}

// cleanChat validates a chat text with the one validator of typed text
// (pkg/text): control, bidirectional and invisible format characters are
// dropped (a newline is kept), surrounding space trimmed, then 1-512
// characters.
func cleanChat(s string) (string, error) {
	clean, err := text.Chat(s)
	if errors.Is(err, text.ErrInvalid) {
		return "", refuse(ReasonInvalid, err.Error())
	}
	return clean, err
}

// chat posts a message: the rules of the room as the actor holds it
// (only the owner may chat; the owner's higher rate), then one state call
// that checks the seat, the rate and the room's version, keeps the message
// and publishes it.
func (a *roomActor) chat(ctx context.Context, m chatCmd) (*pb.ChatMessage, error) {
	id := m.caller
	if ok, reason := id.May(pb.Action_ACTION_CHAT); !ok {
		return nil, refuse(reason, "you may not chat")
	}
	msg := &pb.ChatMessage{
		Id:          m.id,
		RoomId:      a.id,
		UserId:      id.UserID,
		DisplayName: id.DisplayName,
		Text:        m.text,
		SentAt:      timestamppb.New(a.c.now()),
	}
	if seat := a.members[id.UserID]; seat != nil {
		msg.Color = seat.GetUser().GetColor()
	}
	var saved *pb.ChatMessage
	err := decide(func() (bool, error) {
		r := a.room
		owner := !r.GetLobby() && r.GetOwnerId() == id.UserID
		staff, _ := id.May(pb.Action_ACTION_MODERATE)
		if r.GetSettings().GetOnlyOwnerCanChat() && !owner && !staff {
			return false, refuse(ReasonPermission, "only the owner may chat in this room")
		}
		limit := a.c.opt.ChatLimit
		if owner {
			limit = a.c.opt.OwnerChatLimit
		}
		cctx, cancel := a.c.call(ctx)
		defer cancel()
		res, err := a.c.state.SaveChatMessage(cctx, &pb.SaveChatMessageRequest{
			Message: msg, RateLimit: limit, RateWindow: durationpb.New(a.c.opt.ChatWindow), Version: r.GetVersion(),
		})
		if isReason(err, ReasonNotInRoom) {
			return false, refuse(ReasonNotInRoom, "join the room to chat")
		}
		if err != nil {
			return false, fromState("save chat message", err)
		}
		if res.GetStale() {
			a.adopt(res.GetRoom())
			return true, nil
		}
		saved = res.GetMessage()
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	a.c.emit(ctx, pb.EventType_EVENT_TYPE_CHAT, id.UserID, a.id, 1)
	return saved, nil
}

// deleteChat removes one message (staff only); state tells the members.
func (a *roomActor) deleteChat(ctx context.Context, m chatDeleteCmd) error {
	if ok, _ := m.caller.May(pb.Action_ACTION_MODERATE); !ok {
		return refuse(ReasonPermission, "only moderators may delete messages")
	}
	cctx, cancel := a.c.call(ctx)
	defer cancel()
	if _, err := a.c.state.DeleteChatMessage(cctx, &pb.DeleteChatMessageRequest{RoomId: a.id, MessageId: m.messageID}); err != nil {
		return fromState("delete chat message", err)
	}
	return nil
}

// clearChat removes the room's whole chat (staff only).
func (a *roomActor) clearChat(ctx context.Context, m chatClearCmd) error {
	if ok, _ := m.caller.May(pb.Action_ACTION_MODERATE); !ok {
		return refuse(ReasonPermission, "only moderators may clear the chat")
	}
	cctx, cancel := a.c.call(ctx)
	defer cancel()
	if _, err := a.c.state.ClearChat(cctx, &pb.ClearChatRequest{RoomId: a.id}); err != nil {
		return fromState("clear chat", err)
	}
	return nil
}

// SendChat posts a chat message.
func (s *Server) SendChat(ctx context.Context, req *pb.SendChatRequest) (*pb.ChatMessage, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	text, err := cleanChat(req.GetText())
	if err != nil {
		return nil, err
	}
	// The id is fixed here, so the message is the same one whatever
	// happens to the command on its way (posting it twice stores it once).
	return askAs[*pb.ChatMessage](ctx, s.m, rid, chatCmd{caller: id, id: uuid.NewString(), text: text})
}

// ChatHistory returns the last messages of a room the caller is in (staff:
// any room).
func (s *Server) ChatHistory(ctx context.Context, req *pb.ChatHistoryRequest) (*pb.ChatHistoryResponse, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	c := s.m.c
	cctx, cancel := c.call(ctx)
	defer cancel()
	if ok, _ := id.May(pb.Action_ACTION_MODERATE); !ok {
		mem, err := c.state.RoomMembers(cctx, &pb.RoomMembersRequest{RoomId: rid})
		if err != nil {
			return nil, fromState("room members", err)
		}
		in := false
		for _, m := range mem.GetMembers() {
			in = in || m.GetUser().GetId() == id.UserID
		}
		if !in {
			return nil, refuse(ReasonNotInRoom, "join the room to read its chat")
		}
	}
	limit := req.GetLimit()
	if limit <= 0 || limit > chatHistoryOnJoin {
		limit = chatHistoryOnJoin
	}
	resp, err := c.state.ChatHistory(cctx, &pb.ChatHistoryRequest{RoomId: rid, Limit: limit})
	if err != nil {
		return nil, fromState("chat history", err)
	}
	return resp, nil
}

// DeleteChatMessage removes one message (moderators).
func (s *Server) DeleteChatMessage(ctx context.Context, req *pb.DeleteChatMessageRequest) (*emptypb.Empty, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	if req.GetMessageId() == "" {
		return nil, refuse(ReasonInvalid, "message_id is required")
	}
	if _, err := s.m.ask(ctx, rid, chatDeleteCmd{caller: id, messageID: req.GetMessageId()}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// ClearChat removes a room's chat (moderators).
func (s *Server) ClearChat(ctx context.Context, req *pb.ClearChatRequest) (*emptypb.Empty, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	if _, err := s.m.ask(ctx, rid, chatClearCmd{caller: id}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}
