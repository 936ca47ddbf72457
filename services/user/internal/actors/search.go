package actors

import (
	"context"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Search asks for accounts whose display name or username starts with
// Prefix (already validated). Answered with *pb.SearchUsersResponse.
type Search struct {
	Prefix    string
	PageToken string
	PageSize  int
}

// SearchProvider answers name-prefix searches (the SearchProviderAPI of
// the original design). It owns nothing, so it is ordinary concurrent
// code over the account store, not an actor.
type SearchProvider struct{ env *Env }

// NewSearchProvider returns the search handler.
func NewSearchProvider(env *Env) *SearchProvider { return &SearchProvider{env: env} }

// Search runs one search.
func (p *SearchProvider) Search(ctx context.Context, msg Search) (*pb.SearchUsersResponse, error) {
	ctx, cancel := p.env.op(ctx)
	defer cancel()
	found, next, err := p.env.Store.Search(ctx, msg.Prefix, msg.PageToken, msg.PageSize)
	if err != nil {
		return nil, err
	}
	resp := &pb.SearchUsersResponse{NextPageToken: next, Users: make([]*pb.User, 0, len(found))}
	for _, a := range found {
		u := a.Proto()
		u.BannedUntil = nil // other users' bans are not theirs to see
		resp.Users = append(resp.Users, u)
	}
	return resp, nil
}
