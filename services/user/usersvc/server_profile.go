package usersvc

import (
	"context"
	"errors"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/user/internal/account"
	"github.com/pianorhythm/server/services/user/internal/actors"
	"github.com/pianorhythm/server/services/user/internal/validate"
	"google.golang.org/protobuf/proto"
)

func (s *server) Me(ctx context.Context, _ *pb.MeRequest) (*pb.User, error) {
	u, _, err := s.caller(ctx)
	return u, err
}

// GetUser answers anyone; a ban is shown only to the user and staff.
// The id "me" means the caller: the gateway's pattern /v1/users/{user_id}
// shadows GET /v1/users/me (the later registered pattern wins in
// grpc-gateway), so Me must be reachable through here.
func (s *server) GetUser(ctx context.Context, req *pb.GetUserProfileRequest) (*pb.User, error) {
	if req.GetUserId() == "me" {
		return s.Me(ctx, &pb.MeRequest{})
	}
	if err := validate.ID("user_id", req.GetUserId()); err != nil {
		return nil, s.toStatus(ctx, err)
	}
	u, err := s.svc.loadUser(ctx, req.GetUserId())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	if id, err := s.identity(ctx); err != nil || (id.UserID != u.GetId() && !id.Staff()) {
		u = proto.Clone(u).(*pb.User)
		u.BannedUntil = nil
	}
	return u, nil
}

func (s *server) UpdateProfile(ctx context.Context, req *pb.UpdateProfileRequest) (*pb.User, error) {
	me, _, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	target := req.GetUserId()
	if target == "" {
		target = me.GetId()
	}
	if target != me.GetId() && account.Highest(me) < pb.Role_ADMIN {
		return nil, refuse(pb.ErrorReason_PERMISSION_DENIED, "only admins may update other users")
	}
	var verr error
	if req.DisplayName != nil {
		verr = errors.Join(verr, validate.DisplayName(req.GetDisplayName()))
	}
	if req.Color != nil {
		verr = errors.Join(verr, validate.Color(req.GetColor()))
	}
	if req.StatusText != nil {
		verr = errors.Join(verr, validate.Text("status_text", req.GetStatusText(), 128))
	}
	if req.Description != nil {
		verr = errors.Join(verr, validate.Text("description", req.GetDescription(), 1000))
	}
	if verr != nil {
		return nil, s.toStatus(ctx, verr)
	}
	u, err := ask[*pb.User](ctx, s.svc.users, actors.UpdateUserProfile{
		UserID: target, DisplayName: req.DisplayName, Color: req.Color, StatusText: req.StatusText, Description: req.Description,
	})
	return u, s.toStatus(ctx, err)
}

func (s *server) SearchUsers(ctx context.Context, req *pb.SearchUsersRequest) (*pb.SearchUsersResponse, error) {
	if err := validate.SearchPrefix(req.GetPrefix()); err != nil {
		return nil, s.toStatus(ctx, err)
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, refuse(pb.ErrorReason_INVALID_ARGUMENT, "page_size must not be negative")
	case size == 0:
		size = 20
	case size > 100:
		size = 100
	}
	resp, err := s.svc.search.Search(ctx, actors.Search{Prefix: req.GetPrefix(), PageToken: req.GetPageToken(), PageSize: size})
	return resp, s.toStatus(ctx, err)
}

// ValidatePermission answers any caller (services ask about users).
func (s *server) ValidatePermission(ctx context.Context, req *pb.ValidatePermissionRequest) (*pb.ValidatePermissionResponse, error) {
	if err := validate.ID("user_id", req.GetUserId()); err != nil {
		return nil, s.toStatus(ctx, err)
	}
	u, err := s.svc.loadUser(ctx, req.GetUserId())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	ok, reason := auth.Permitted(account.Highest(u), account.BannedAt(u, s.svc.deps.Clock()), req.GetAction())
	if reason == pb.ErrorReason_INVALID_ARGUMENT {
		return nil, refuse(pb.ErrorReason_INVALID_ARGUMENT, "unknown action")
	}
	out := &pb.ValidatePermissionResponse{Allowed: ok}
	if !ok {
		out.Reason = reason.String()
	}
	return out, nil
}

func (s *server) GrantRole(ctx context.Context, req *pb.GrantRoleRequest) (*pb.User, error) {
	return s.setRole(ctx, req.GetUserId(), req.GetRole(), true)
}

func (s *server) RevokeRole(ctx context.Context, req *pb.RevokeRoleRequest) (*pb.User, error) {
	return s.setRole(ctx, req.GetUserId(), req.GetRole(), false)
}

func (s *server) setRole(ctx context.Context, userID string, role pb.Role, grant bool) (*pb.User, error) {
	if _, err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	if err := validate.ID("user_id", userID); err != nil {
		return nil, s.toStatus(ctx, err)
	}
	// GUEST is not a role an account can hold, and MEMBER is what every
	// account is.
	if role <= pb.Role_MEMBER || role > pb.Role_ADMIN {
		return nil, refuse(pb.ErrorReason_INVALID_ARGUMENT, "role must be PRO, MODERATOR or ADMIN")
	}
	u, err := ask[*pb.User](ctx, s.svc.users, actors.SetRole{UserID: userID, Role: role, Grant: grant})
	return u, s.toStatus(ctx, err)
}

func (s *server) SetBadges(ctx context.Context, req *pb.SetBadgesRequest) (*pb.User, error) {
	if _, err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	verr := validate.ID("user_id", req.GetUserId())
	if len(req.GetBadges()) > 32 {
		verr = errors.Join(verr, refuse(pb.ErrorReason_INVALID_ARGUMENT, "at most 32 badges"))
	}
	for _, b := range req.GetBadges() {
		verr = errors.Join(verr, validate.Badge(b))
	}
	if verr != nil {
		return nil, s.toStatus(ctx, verr)
	}
	u, err := ask[*pb.User](ctx, s.svc.users, actors.SetBadges{UserID: req.GetUserId(), Badges: req.GetBadges()})
	return u, s.toStatus(ctx, err)
}

func (s *server) BanAccount(ctx context.Context, req *pb.BanAccountRequest) (*pb.User, error) {
	me, err := s.requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	verr := errors.Join(validate.ID("user_id", req.GetUserId()), validate.Text("reason", req.GetReason(), 500))
	if d := req.GetDuration(); d != nil && (d.CheckValid() != nil || d.AsDuration() < 0) {
		verr = errors.Join(verr, refuse(pb.ErrorReason_INVALID_ARGUMENT, "bad duration"))
	}
	if verr != nil {
		return nil, s.toStatus(ctx, verr)
	}
	if req.GetUserId() == me.GetId() {
		return nil, refuse(pb.ErrorReason_INVALID_ARGUMENT, "admins cannot ban themselves")
	}
	u, err := ask[*pb.User](ctx, s.svc.users, actors.Ban{UserID: req.GetUserId(), Until: banUntil(s.svc.deps.Clock(), req.GetDuration()), Reason: req.GetReason()})
	return u, s.toStatus(ctx, err)
}

func (s *server) UnbanAccount(ctx context.Context, req *pb.UnbanAccountRequest) (*pb.User, error) {
	if _, err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	if err := validate.ID("user_id", req.GetUserId()); err != nil {
		return nil, s.toStatus(ctx, err)
	}
	u, err := ask[*pb.User](ctx, s.svc.users, actors.Ban{UserID: req.GetUserId()})
	return u, s.toStatus(ctx, err)
}
