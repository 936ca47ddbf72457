package room

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/roomview"
)

// Manager is the RoomManager's handle: the RoomManager actor finds or
// starts the Room actor of a room (one per live room, children of one
// supervisor) and forwards each command to it; Manager's methods hold the
// logic that needs no room actor (creating rooms, lobby overflow). It is
// safe for concurrent use; Close stops every Room actor.
type Manager struct {
	c      *core
	sup    *actor.Supervisor
	ref    *actor.Ref // the RoomManager actor
	closed atomic.Bool

	// hook, when set by tests, runs at the start of every Room actor
	// message (to inject panics).
	hook atomic.Pointer[func(roomID string, msg any)]
}

// toRoom is a command for the Room actor of room; the RoomManager forwards
// it there, and the Room actor's reply goes straight to the asker.
type toRoom struct {
	room string
	cmd  command
}

// Idempotent is its command's: the actor kernel retries a message after a
// crash only when it says so.
func (t toRoom) Idempotent() bool {
	i, ok := t.cmd.(interface{ Idempotent() bool })
	return ok && i.Idempotent()
}

// NewManager starts the RoomManager actor and the room supervisor under
// sys.
func NewManager(sys *actor.System, opt Options, state pb.StateServiceClient, events Events, log *slog.Logger) (*Manager, error) {
	sup, err := sys.SpawnSupervisor(actor.SupervisorProps{
		Name:     "rooms",
		Strategy: actor.OneForOne,
		// Rooms fail independently; a handful of crashing rooms must not
		// make the supervisor give up on all of them.
		MaxRestarts: 1000,
		Within:      time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("start room supervisor: %w", err)
	}
	m := &Manager{c: &core{opt: opt, state: state, events: events, log: log}, sup: sup}
	m.ref, err = sys.Spawn(actor.Props{
		Kind: "room-manager",
		Name: "room-manager",
		New: func() actor.Actor {
			return &roomManager{m: m, rooms: map[string]*actor.Ref{}, ids: map[*actor.Ref]string{}}
		},
		MailboxSize: 10 * max(opt.MailboxSize, 100),
	})
	if err != nil {
		_ = sup.Stop(context.Background())
		return nil, fmt.Errorf("start room manager: %w", err)
	}
	return m, nil
}

// Ref is the RoomManager actor (for readiness checks).
func (m *Manager) Ref() *actor.Ref { return m.ref }

// SetHook installs a test hook run before every RoomManager (roomID "")
// and Room actor message.
func (m *Manager) SetHook(h func(roomID string, msg any)) { m.hook.Store(&h) }

func (m *Manager) runHook(roomID string, msg any) {
	if h := m.hook.Load(); h != nil && *h != nil {
		(*h)(roomID, msg)
	}
}

// Close stops the RoomManager and every Room actor, and waits.
func (m *Manager) Close(ctx context.Context) error {
	m.closed.Store(true)
	if err := m.ref.Stop(ctx); err != nil {
		return fmt.Errorf("stop room manager: %w", err)
	}
	if err := m.sup.Stop(ctx); err != nil {
		return fmt.Errorf("stop rooms: %w", err)
	}
	return nil
}

// roomManager is the RoomManager actor. It alone owns the index of live
// Room actors, so finding and starting them needs no lock; it watches each
// one and forgets it when it stops (a room that was removed, or one its
// supervisor gave up on).
type roomManager struct {
	m     *Manager
	rooms map[string]*actor.Ref
	ids   map[*actor.Ref]string
}

func (a *roomManager) Receive(c *actor.Context) {
	a.m.runHook("", c.Message())
	switch msg := c.Message().(type) {
	case toRoom:
		if err := a.forward(c, msg.room); err != nil {
			c.Respond(err)
		}
	case actor.Terminated:
		if id, ok := a.ids[msg.Ref]; ok {
			delete(a.ids, msg.Ref)
			if a.rooms[id] == msg.Ref {
				delete(a.rooms, id)
			}
		}
	}
}

// forward hands the command being handled to the room's actor, starting it
// if needed; an actor found stopped (the room was just removed) is replaced
// once.
func (a *roomManager) forward(c *actor.Context, id string) error {
	for attempt := 0; ; attempt++ {
		ref := a.rooms[id]
		if ref == nil {
			var err error
			if ref, err = a.start(c, id); err != nil {
				return err
			}
		}
		err := c.Forward(ref)
		if errors.Is(err, actor.ErrStopped) && attempt == 0 {
			delete(a.rooms, id)
			continue
		}
		return err
	}
}

func (a *roomManager) start(c *actor.Context, id string) (*actor.Ref, error) {
	m := a.m
	ref, err := m.sup.Spawn(actor.Props{
		Kind:        "room",
		Name:        "room:" + id,
		New:         func() actor.Actor { return &roomActor{id: id, c: m.c, mgr: m} },
		MailboxSize: m.c.opt.MailboxSize,
		// A command that crashes the room is retried only when it says it
		// is idempotent (chat, by message id); any other gets an error, and
		// the room restarts and goes on.
		MaxRetries: 2,
	})
	if err != nil {
		return nil, fromState("start room", err)
	}
	ref.Watch(c.Self())
	a.rooms[id], a.ids[ref] = ref, id
	return ref, nil
}

// ask sends msg to the room's actor through the RoomManager. A room actor
// that stopped after receiving it (the room was just removed) answers
// ErrStopped; the command is then sent once more, to a fresh actor.
func (m *Manager) ask(ctx context.Context, id string, msg command) (any, error) {
	for attempt := 0; ; attempt++ {
		if m.closed.Load() {
			return nil, refuse(ReasonUnavailable, "room service is shutting down")
		}
		v, err := m.ref.Ask(ctx, toRoom{room: id, cmd: msg})
		if errors.Is(err, actor.ErrStopped) && attempt < 2 {
			continue
		}
		var pe *actor.PanicError
		if errors.As(err, &pe) {
			return nil, refuse(ReasonInternal, "room "+id+" failed")
		}
		if err != nil && rpcStatus(err) {
			return nil, err
		}
		if err != nil {
			return nil, fromState("room "+id, err)
		}
		return v, nil
	}
}

// askAs is ask with the reply converted to T.
func askAs[T any](ctx context.Context, m *Manager, id string, msg command) (T, error) {
	var zero T
	v, err := m.ask(ctx, id, msg)
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, refuse(ReasonInternal, fmt.Sprintf("room %s: unexpected reply %T", id, v))
	}
	return t, nil
}

// EnsureLobby creates the lobby if it is missing.
func (m *Manager) EnsureLobby(ctx context.Context) error {
	_, err := m.createLobby(ctx, 1)
	return err
}

// createLobby stores lobby number n unless it exists, and returns its id.
func (m *Manager) createLobby(ctx context.Context, n int) (string, error) {
	id := lobbyName(n)
	r := &pb.Room{
		Id:        id,
		Lobby:     true,
		Settings:  defaultSettings(lobbyTitle(n), m.c.opt.LobbyCapacity),
		CreatedAt: timestamppb.New(m.c.now()),
	}
	cctx, cancel := m.c.call(ctx)
	defer cancel()
	_, err := m.c.state.SaveRoom(cctx, &pb.SaveRoomRequest{Room: r, CreateOnly: true})
	if err != nil && !isReason(err, ReasonAlreadyExists) {
		return "", fromState("create lobby", err)
	}
	return id, nil
}

func lobbyTitle(n int) string {
	if n <= 1 {
		return "Lobby"
	}
	return fmt.Sprintf("Lobby %d", n)
}

// Create stores a new room owned by the caller and starts its actor (which
// removes it after the grace if nobody joins).
func (m *Manager) Create(ctx context.Context, caller auth.Identity, id string, settings *pb.RoomSettings) (*pb.Room, error) {
	if ok, reason := caller.May(pb.Action_ACTION_CREATE_ROOM); !ok {
		return nil, refuse(reason, "you may not create rooms")
	}
	if id == "" {
		id = uuid.NewString()[:8]
	}
	if !roomIDPattern.MatchString(id) {
		return nil, refuse(ReasonInvalid, "room id must be 1-64 letters, digits, '-' or '_'")
	}
	if lobbyIndex(id) > 0 {
		return nil, refuse(ReasonAlreadyExists, "lobby names are reserved")
	}
	if err := validateSettings(settings, m.c.limits().ceiling(false, caller)); err != nil {
		return nil, err
	}
	r := &pb.Room{
		Id:        id,
		Settings:  defaultSettings(id, m.c.opt.RoomCapacity),
		OwnerId:   caller.UserID,
		CreatedAt: timestamppb.New(m.c.now()),
	}
	if err := applySettings(r, settings); err != nil {
		return nil, err
	}
	cctx, cancel := m.c.call(ctx)
	saved, err := m.c.state.SaveRoom(cctx, &pb.SaveRoomRequest{Room: r, CreateOnly: true})
	cancel()
	if err != nil {
		return nil, fromState("create room", err)
	}
	m.c.emit(ctx, pb.EventType_EVENT_TYPE_ROOM_CREATED, caller.UserID, id, 0)
	if _, err := m.ask(ctx, id, touchCmd{}); err != nil {
		m.c.log.WarnContext(ctx, "start room actor", "room", id, "err", err)
	}
	return roomview.Public(saved.GetRoom()), nil
}

// Join puts the caller in a room. A full lobby sends the joiner on to
// lobby-2, lobby-3, ..., created on demand.
func (m *Manager) Join(ctx context.Context, caller auth.Identity, req *pb.JoinRoomRequest) (*pb.JoinRoomResponse, error) {
	id := req.GetRoomId()
	if id == "" {
		id = LobbyID
	}
	if !roomIDPattern.MatchString(id) {
		return nil, refuse(ReasonInvalid, "invalid room id")
	}
	if lobbyIndex(id) > 0 {
		return m.joinLobby(ctx, caller, req, lobbyIndex(id))
	}
	create := func() error {
		if _, err := m.Create(ctx, caller, id, req.GetSettings()); err != nil && !isReason(err, ReasonAlreadyExists) {
			return err
		}
		return nil
	}
	verified := ""
	if pw := req.GetPassword(); pw != "" {
		var err error
		verified, err = m.precheckPassword(ctx, caller, id, pw)
		if isReason(err, ReasonNotFound) && req.GetCreate() {
			if err := create(); err != nil {
				return nil, err
			}
			verified, err = m.precheckPassword(ctx, caller, id, pw)
		}
		if err != nil {
			return nil, err
		}
	}
	cmd := joinRoom{caller: caller, req: req, verifiedHash: verified}
	resp, err := askAs[*pb.JoinRoomResponse](ctx, m, id, cmd)
	if isReason(err, ReasonNotFound) && req.GetCreate() {
		if err := create(); err != nil {
			return nil, err
		}
		resp, err = askAs[*pb.JoinRoomResponse](ctx, m, id, cmd)
	}
	return resp, err
}

// precheckPassword verifies the password against the hash the Room actor
// holds, outside the actor, so a slow argon2id check does not hold up the
// room. It returns the hash it matched ("" when there was none; the actor
// then decides). Guessing is limited (the owner and staff need no
// password): per guesser and room a pause after PasswordPause wrong
// passwords in a short window, a lockout after PasswordLockout in a long
// one, and per room a ceiling on wrong passwords from everyone; each
// refusal says when to try again. The counters live in the state service,
// so every replica shares them.
func (m *Manager) precheckPassword(ctx context.Context, caller auth.Identity, id, pw string) (string, error) {
	lock, err := askAs[passwordLock](ctx, m, id, passwordHash{})
	if err != nil {
		return "", err
	}
	if lock.hash == "" || lock.owner == caller.UserID {
		return "", nil
	}
	if staff, _ := caller.May(pb.Action_ACTION_MODERATE); staff {
		return "", nil
	}
	o := m.c.opt
	limits := []guessLimit{
		{"roompw:" + id + ":" + caller.UserID, o.PasswordLockout, o.PasswordLockoutWindow, ReasonLockedOut},
		{"roompw:pause:" + id + ":" + caller.UserID, o.PasswordPause, o.PasswordPauseWindow, ReasonRateLimited},
		{"roompw:" + id, o.PasswordRoomLimit, o.PasswordPauseWindow, ReasonRateLimited},
	}
	for _, l := range limits {
		if err := m.guess(ctx, l, true); err != nil {
			return "", err
		}
	}
	if checkPassword(lock.hash, pw) {
		return lock.hash, nil
	}
	for _, l := range limits {
		if err := m.guess(ctx, l, false); err != nil && !isReason(err, l.reason) {
			return "", err
		}
	}
	return "", refuse(ReasonWrongPassword, "wrong password")
}

// passwordLock is what a password check needs of a room.
type passwordLock struct{ hash, owner string }

// guessLimit is one counter of wrong passwords.
type guessLimit struct {
	key    string
	limit  int32
	window time.Duration
	reason pb.ErrorReason
}

// guess checks (peek) or counts one wrong password on l, refusing with
// l.reason and the time to try again when the limit is reached.
func (m *Manager) guess(ctx context.Context, l guessLimit, peek bool) error {
	cctx, cancel := m.c.call(ctx)
	defer cancel()
	res, err := m.c.state.Hit(cctx, &pb.HitRequest{Key: l.key, Limit: l.limit, Window: durationpb.New(l.window), Peek: peek})
	if err != nil {
		return fromState("password attempts", err)
	}
	if res.GetAllowed() {
		return nil
	}
	until := m.c.now().Add(res.GetRetryAfter().AsDuration()).UTC().Truncate(time.Second)
	return refuse(l.reason, "too many wrong passwords: try again after "+until.Format(time.RFC3339))
}

// joinLobby tries lobby n first, then every lobby from the first on,
// creating the next one when all are full.
func (m *Manager) joinLobby(ctx context.Context, caller auth.Identity, req *pb.JoinRoomRequest, first int) (*pb.JoinRoomResponse, error) {
	tried := map[int]bool{}
	next := 1
	n := first
	for range maxLobbies {
		tried[n] = true
		id := lobbyName(n)
		resp, err := askAs[*pb.JoinRoomResponse](ctx, m, id, joinRoom{caller: caller, req: req})
		if err == nil {
			return resp, nil
		}
		switch {
		case isReason(err, ReasonRoomFull):
		case isReason(err, ReasonNotFound):
			// Removed while empty, or not created yet: (re)create it.
			if _, cerr := m.createLobby(ctx, n); cerr != nil {
				return nil, cerr
			}
			if resp, err = askAs[*pb.JoinRoomResponse](ctx, m, id, joinRoom{caller: caller, req: req}); err == nil {
				return resp, nil
			}
			if !isReason(err, ReasonRoomFull) {
				return nil, err
			}
		default:
			return nil, err
		}
		for tried[next] {
			next++
		}
		n = next
	}
	return nil, refuse(ReasonRoomFull, "every lobby is full")
}

// rpcStatus reports whether err is already a status error (one of our
// refusals, answered by the actor).
func rpcStatus(err error) bool {
	_, ok := status.FromError(err)
	return ok
}

// Sweep starts the actor of every empty room other than the lobby, so
// rooms left empty by a previous run (or a replica that died) get their
// grace timer and are removed. It returns how many it started.
func (m *Manager) Sweep(ctx context.Context) (int, error) {
	n, token := 0, ""
	for {
		cctx, cancel := m.c.call(ctx)
		resp, err := m.c.state.ListRooms(cctx, &pb.ListRoomsRequest{IncludePrivate: true, PageSize: 200, PageToken: token})
		cancel()
		if err != nil {
			return n, fromState("list rooms", err)
		}
		for _, r := range resp.GetRooms() {
			if r.GetMemberCount() > 0 || lobbyIndex(r.GetId()) == 1 {
				continue
			}
			if _, err := m.ask(ctx, r.GetId(), touchCmd{}); err != nil && !isReason(err, ReasonNotFound) {
				return n, err
			}
			n++
		}
		if token = resp.GetNextPageToken(); token == "" {
			return n, nil
		}
	}
}
