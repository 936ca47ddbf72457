package usersvc

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/user/internal/account"
	"github.com/pianorhythm/server/services/user/internal/actors"
	"github.com/pianorhythm/server/services/user/internal/validate"
	"google.golang.org/protobuf/types/known/durationpb"
)

// stateTTL is how long a browser has to come back from Discord.
const stateTTL = 10 * time.Minute

// OAuthStart returns Discord's authorization URL. A logged-in member who
// starts the flow gets Discord linked to their account at the callback.
func (s *server) OAuthStart(ctx context.Context, req *pb.OAuthStartRequest) (*pb.OAuthStartResponse, error) {
	if err := s.oauthEnabled(req.GetProvider()); err != nil {
		return nil, err
	}
	link := ""
	if id, ok := auth.FromContext(ctx); ok && !id.Guest {
		link = id.UserID
	}
	state, err := s.svc.signer.MintState(link, stateTTL)
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	return &pb.OAuthStartResponse{Url: s.svc.discord.AuthCodeURL(state), State: state}, nil
}

// OAuthCallback finishes the flow: the state must be one this service
// signed, unexpired and unused; the code is exchanged for the Discord
// identity, which logs in, links or creates an account.
func (s *server) OAuthCallback(ctx context.Context, req *pb.OAuthCallbackRequest) (*pb.AuthResponse, error) {
	if err := s.oauthEnabled(req.GetProvider()); err != nil {
		return nil, err
	}
	if req.GetCode() == "" || len(req.GetCode()) > 512 {
		return nil, refuse(pb.ErrorReason_INVALID_ARGUMENT, "code is required")
	}
	nonce, link, err := s.svc.signer.ParseState(req.GetState())
	if err != nil {
		return nil, refuse(pb.ErrorReason_INVALID_ARGUMENT, "invalid or expired state")
	}
	// Single use: a replayed state is refused on every replica.
	octx, cancel := context.WithTimeout(ctx, s.svc.cfg.OpTimeout)
	hit, err := s.svc.deps.State.Hit(octx, &pb.HitRequest{Key: "oauth:state:" + nonce, Limit: 1, Window: durationpb.New(stateTTL)})
	cancel()
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	if !hit.GetAllowed() {
		return nil, refuse(pb.ErrorReason_INVALID_ARGUMENT, "state already used")
	}
	octx, cancel = context.WithTimeout(ctx, 2*s.svc.cfg.OpTimeout)
	who, err := s.svc.discord.Exchange(octx, req.GetCode())
	cancel()
	if err != nil {
		s.svc.deps.Logger.WarnContext(ctx, "discord login failed", "err", err)
		return nil, refuse(pb.ErrorReason_UNAUTHENTICATED, "discord login failed")
	}
	u, err := ask[*pb.User](ctx, s.svc.users, actors.OAuthLogin{DiscordID: who.ID, DiscordName: displayName(who.Name()), LinkUserID: link})
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	if account.BannedAt(u, s.svc.deps.Clock()) {
		return nil, s.toStatus(ctx, actors.ErrBanned)
	}
	return s.loggedIn(ctx, u, "discord")
}

func (s *server) oauthEnabled(provider string) error {
	if provider != "discord" {
		return refuse(pb.ErrorReason_INVALID_ARGUMENT, "unknown provider; only discord is supported")
	}
	if s.svc.discord == nil {
		return refuse(pb.ErrorReason_FAILED_PRECONDITION, "discord login is not configured")
	}
	return nil
}

// displayName makes a valid display name of what Discord calls the user.
func displayName(name string) string {
	name = strings.TrimSpace(strings.ToValidUTF8(name, ""))
	if utf8.RuneCountInString(name) > 40 {
		name = strings.TrimSpace(string([]rune(name)[:40]))
	}
	if validate.DisplayName(name) != nil {
		return account.GuestName()
	}
	return name
}
