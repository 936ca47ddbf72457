package actors

import (
	"fmt"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
)

// Search asks for accounts whose display name or username starts with
// Prefix (already validated). Answered with *pb.SearchUsersResponse.
type Search struct {
	Prefix    string
	PageToken string
	PageSize  int
}

// SearchProvider is the actor answering searches; see the package doc.
type SearchProvider struct{ env *Env }

// NewSearchProvider returns the factory of SearchProvider actors.
func NewSearchProvider(env *Env) func() actor.Actor {
	return func() actor.Actor { return &SearchProvider{env: env} }
}

// Receive handles one Search.
func (p *SearchProvider) Receive(c *actor.Context) {
	msg, ok := c.Message().(Search)
	if !ok {
		c.Respond(fmt.Errorf("search provider: %w %T", errUnknownMessage, c.Message()))
		return
	}
	ctx, cancel := p.env.op(c.Context())
	defer cancel()
	found, next, err := p.env.Store.Search(ctx, msg.Prefix, msg.PageToken, msg.PageSize)
	if err != nil {
		c.Respond(err)
		return
	}
	resp := &pb.SearchUsersResponse{NextPageToken: next, Users: make([]*pb.User, 0, len(found))}
	for _, a := range found {
		u := a.Proto()
		u.BannedUntil = nil // other users' bans are not theirs to see
		resp.Users = append(resp.Users, u)
	}
	c.Respond(resp)
}
