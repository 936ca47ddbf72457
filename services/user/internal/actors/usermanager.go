package actors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/user/internal/account"
	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// UserManager messages. Each is answered with the user after the change
// (*pb.User) or an error.
type (
	// CreateGuest makes a guest (kept in the state service only) with the
	// id ID (NewGuestID).
	CreateGuest struct{ ID, DisplayName string }
	// LoadAccount answers the user ID as it is now (*pb.User): from the
	// actor's accounts when it loaded or wrote them less than
	// AccountCacheTTL ago, else from MongoDB (guests: the state service).
	LoadAccount struct{ ID string }
	// Register creates an account; the password is already hashed.
	Register struct{ Username, PasswordHash, DisplayName string }
	// AuthenticateUser records a successful login (the password or OAuth
	// check ran outside the actor: argon2id is slow on purpose). It grants
	// ADMIN to an account whose username is listed in
	// Env.Admins (bootstrap of the first admin), and refreshes the state
	// copy of the user; sent on every login.
	AuthenticateUser struct{ Account *account.Account }
	// OAuthLogin logs in with a Discord identity: the linked account, or
	// LinkUserID's account (which gets linked), or a new account.
	OAuthLogin struct{ DiscordID, DiscordName, LinkUserID string }
	// UpdateUserProfile changes the fields that are not nil (already
	// validated).
	UpdateUserProfile struct {
		UserID                                      string
		DisplayName, Color, StatusText, Description *string
	}
	// SetRole grants (Grant) or revokes a role.
	SetRole struct {
		UserID string
		Role   pb.Role
		Grant  bool
	}
	// SetBadges replaces the badges.
	SetBadges struct {
		UserID string
		Badges []string
	}
	// Ban bans until Until (zero: lift the ban).
	Ban struct {
		UserID string
		Until  time.Time
		Reason string
	}
)

// UserManager is one actor of the UserManager pool: the one writer, in
// this process, of the accounts routed to it (UserKey), so read-modify-
// write sequences on one account never interleave while different
// accounts are written in parallel; and the owner of those accounts as it
// last read or wrote them, so reads of a busy account do not go to MongoDB
// each time. Another replica may write an account meanwhile: what it holds
// is at most AccountCacheTTL old.
type UserManager struct {
	env      *Env
	accounts map[string]cachedUser
}

type cachedUser struct {
	u  *pb.User
	at time.Time
}

// AccountCacheTTL bounds how old a UserManager's copy of an account may be
// when it answers from it.
const AccountCacheTTL = 2 * time.Second

// maxCached bounds the accounts one UserManager keeps; past it, it starts
// again from none (a cache, not a store).
const maxCached = 10000

// NewUserManager returns the factory of UserManager actors.
func NewUserManager(env *Env) func() actor.Actor {
	return func() actor.Actor { return &UserManager{env: env, accounts: map[string]cachedUser{}} }
}

// UserKey routes a UserManager message to the pool member that owns its
// account.
func UserKey(msg any) string {
	switch m := msg.(type) {
	case CreateGuest:
		return m.ID
	case LoadAccount:
		return m.ID
	case Register:
		return "username:" + account.UsernameKey(m.Username)
	case AuthenticateUser:
		return m.Account.ID
	case OAuthLogin:
		if m.LinkUserID != "" {
			return m.LinkUserID
		}
		return "discord:" + m.DiscordID
	case UpdateUserProfile:
		return m.UserID
	case SetRole:
		return m.UserID
	case SetBadges:
		return m.UserID
	case Ban:
		return m.UserID
	}
	return ""
}

// NewGuestID returns a new guest's id.
func NewGuestID() string { return GuestPrefix + uuid.NewString() }

// Receive handles one UserManager message.
func (m *UserManager) Receive(c *actor.Context) {
	ctx := c.Context()
	var u *pb.User
	var err error
	switch msg := c.Message().(type) {
	case LoadAccount:
		u, err = m.load(ctx, msg.ID)
	case CreateGuest:
		u, err = m.createGuest(ctx, msg)
	case Register:
		u, err = m.register(ctx, msg)
	case AuthenticateUser:
		u, err = m.ensureAdmin(ctx, msg.Account)
	case OAuthLogin:
		u, err = m.oauthLogin(ctx, msg)
	case UpdateUserProfile:
		u, err = m.updateProfile(ctx, msg)
	case SetRole:
		op := "$pull"
		if msg.Grant {
			op = "$addToSet"
		}
		u, err = m.update(ctx, msg.UserID, bson.D{{Key: op, Value: bson.D{{Key: "roles", Value: int32(msg.Role)}}}})
	case SetBadges:
		u, err = m.update(ctx, msg.UserID, bson.D{{Key: "$set", Value: bson.D{{Key: "badges", Value: msg.Badges}}}})
	case Ban:
		u, err = m.ban(ctx, msg)
	default:
		err = fmt.Errorf("user manager: %w %T", errUnknownMessage, msg)
	}
	if err != nil {
		c.Respond(err)
		return
	}
	m.keep(u)
	c.Respond(u)
}

// load answers from the accounts the actor holds, or reads and keeps.
func (m *UserManager) load(ctx context.Context, id string) (*pb.User, error) {
	if c, ok := m.accounts[id]; ok && m.env.Now().Sub(c.at) < AccountCacheTTL {
		return c.u, nil
	}
	return m.env.LoadUser(ctx, id)
}

// keep records u as the account now is.
func (m *UserManager) keep(u *pb.User) {
	if u == nil || u.GetId() == "" {
		return
	}
	if len(m.accounts) >= maxCached {
		clear(m.accounts)
	}
	m.accounts[u.GetId()] = cachedUser{u: u, at: m.env.Now()}
}

func (m *UserManager) createGuest(ctx context.Context, msg CreateGuest) (*pb.User, error) {
	name := msg.DisplayName
	if name == "" {
		name = account.GuestName()
	}
	id := msg.ID
	if id == "" {
		id = NewGuestID()
	}
	u := &pb.User{
		Id: id, DisplayName: name, Color: account.RandomColor(),
		Roles: []pb.Role{pb.Role_GUEST}, Guest: true, CreatedAt: timestamppb.New(m.env.Now()),
	}
	octx, cancel := m.env.op(ctx)
	defer cancel()
	if _, err := m.env.State.SaveUser(octx, &pb.SaveUserRequest{User: u}); err != nil {
		return nil, stateErr("save guest", err, nil) // the guest exists nowhere else
	}
	return u, nil
}

func (m *UserManager) newAccount(username, displayName string) *account.Account {
	roles := []int32{int32(pb.Role_MEMBER)}
	if username != "" && m.env.Admins[account.UsernameKey(username)] {
		roles = append(roles, int32(pb.Role_ADMIN))
	}
	return &account.Account{
		ID: uuid.Must(uuid.NewV7()).String(), Username: username, DisplayName: displayName,
		Color: account.RandomColor(), Roles: roles, CreatedAt: m.env.Now().UTC().Truncate(time.Millisecond),
	}
}

func (m *UserManager) register(ctx context.Context, msg Register) (*pb.User, error) {
	name := msg.DisplayName
	if name == "" {
		name = msg.Username
	}
	a := m.newAccount(msg.Username, name)
	a.PasswordHash = msg.PasswordHash
	octx, cancel := m.env.op(ctx)
	defer cancel()
	if err := m.env.Store.Insert(octx, a); err != nil {
		return nil, err
	}
	u := a.Proto()
	m.env.cache(ctx, u)
	return u, nil
}

func (m *UserManager) ensureAdmin(ctx context.Context, a *account.Account) (*pb.User, error) {
	if m.env.Admins[a.UsernameKey] && !slices.Contains(a.Roles, int32(pb.Role_ADMIN)) {
		return m.update(ctx, a.ID, bson.D{{Key: "$addToSet", Value: bson.D{{Key: "roles", Value: int32(pb.Role_ADMIN)}}}})
	}
	u := a.Proto()
	m.env.cache(ctx, u)
	return u, nil
}

func (m *UserManager) oauthLogin(ctx context.Context, msg OAuthLogin) (*pb.User, error) {
	octx, cancel := m.env.op(ctx)
	defer cancel()
	a, err := m.env.Store.ByDiscordID(octx, msg.DiscordID)
	switch {
	case err == nil:
		if msg.LinkUserID != "" && msg.LinkUserID != a.ID {
			return nil, fmt.Errorf("discord account linked to another user: %w", account.ErrTaken)
		}
		return m.ensureAdmin(ctx, a)
	case !errors.Is(err, account.ErrNotFound):
		return nil, err
	case msg.LinkUserID != "":
		return m.update(ctx, msg.LinkUserID, bson.D{{Key: "$set", Value: bson.D{
			{Key: "discord_id", Value: msg.DiscordID}, {Key: "discord_key", Value: msg.DiscordID},
		}}})
	}
	a = m.newAccount("", msg.DiscordName)
	a.DiscordID = msg.DiscordID
	if err := m.env.Store.Insert(octx, a); err != nil {
		return nil, err
	}
	u := a.Proto()
	m.env.cache(ctx, u)
	return u, nil
}

func (m *UserManager) updateProfile(ctx context.Context, msg UpdateUserProfile) (*pb.User, error) {
	if IsGuestID(msg.UserID) {
		return m.updateGuest(ctx, msg)
	}
	set := bson.D{}
	if msg.DisplayName != nil {
		a := account.Account{DisplayName: *msg.DisplayName}
		a.Fill()
		set = append(set, bson.E{Key: "display_name", Value: a.DisplayName}, bson.E{Key: "name_lower", Value: a.NameLower})
	}
	for key, v := range map[string]*string{"color": msg.Color, "status_text": msg.StatusText, "description": msg.Description} {
		if v != nil {
			set = append(set, bson.E{Key: key, Value: *v})
		}
	}
	if len(set) == 0 {
		return m.load(ctx, msg.UserID)
	}
	return m.update(ctx, msg.UserID, bson.D{{Key: "$set", Value: set}})
}

func (m *UserManager) updateGuest(ctx context.Context, msg UpdateUserProfile) (*pb.User, error) {
	u, err := m.load(ctx, msg.UserID)
	if err != nil {
		return nil, err
	}
	u = proto.Clone(u).(*pb.User)
	for dst, src := range map[*string]*string{&u.DisplayName: msg.DisplayName, &u.Color: msg.Color, &u.StatusText: msg.StatusText, &u.Description: msg.Description} {
		if src != nil {
			*dst = *src
		}
	}
	octx, cancel := m.env.op(ctx)
	defer cancel()
	if _, err := m.env.State.SaveUser(octx, &pb.SaveUserRequest{User: u}); err != nil {
		return nil, stateErr("save guest", err, nil)
	}
	m.env.publish(ctx, &pb.UserEvent{UserId: u.GetId(), EventId: uuid.NewString(), At: timestamppb.New(m.env.Now()), Event: &pb.UserEvent_Profile{Profile: u}})
	return u, nil
}

func (m *UserManager) ban(ctx context.Context, msg Ban) (*pb.User, error) {
	var update bson.D
	if msg.Until.IsZero() {
		update = bson.D{{Key: "$unset", Value: bson.D{{Key: "banned_until", Value: ""}, {Key: "ban_reason", Value: ""}}}}
	} else {
		update = bson.D{{Key: "$set", Value: bson.D{{Key: "banned_until", Value: msg.Until.UTC()}, {Key: "ban_reason", Value: msg.Reason}}}}
	}
	u, err := m.update(ctx, msg.UserID, update)
	if err != nil || msg.Until.IsZero() {
		return u, err
	}
	// Close the user's connections wherever they are (close code 4008).
	m.env.publish(ctx, &pb.UserEvent{UserId: u.GetId(), EventId: uuid.NewString(), At: timestamppb.New(m.env.Now()),
		Event: &pb.UserEvent_Disconnect{Disconnect: &pb.Disconnect{Code: 4008, Reason: "banned: " + msg.Reason}}})
	return u, nil
}

// update applies a MongoDB update to an account, then refreshes the state
// copy and tells the user's connections about their new profile.
func (m *UserManager) update(ctx context.Context, id string, update bson.D) (*pb.User, error) {
	if IsGuestID(id) {
		return nil, fmt.Errorf("guests have no account: %w", account.ErrNotFound)
	}
	octx, cancel := m.env.op(ctx)
	defer cancel()
	a, err := m.env.Store.Update(octx, id, update)
	if err != nil {
		return nil, err
	}
	u := a.Proto()
	m.env.cache(ctx, u)
	m.env.publish(ctx, &pb.UserEvent{UserId: u.GetId(), EventId: uuid.NewString(), At: timestamppb.New(m.env.Now()), Event: &pb.UserEvent_Profile{Profile: u}})
	return u, nil
}
