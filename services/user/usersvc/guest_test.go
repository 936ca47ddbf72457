package usersvc_test

import (
	"context"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/user/usersvc"
)

// TestAccessOnlyGuest: the guest of one WebSocket connection gets a
// working access token and no refresh token, so nothing outlives the
// connection; a guest asked for over REST still gets both.
func TestAccessOnlyGuest(t *testing.T) {
	e := newEnv(t, usersvc.Config{})
	ctx := context.Background()
	tests := []struct {
		name        string
		accessOnly  bool
		wantRefresh bool
	}{
		{"access only", true, false},
		{"with a session", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.client.CreateGuest(ctx, &pb.CreateGuestRequest{AccessOnly: tt.accessOnly})
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetRefreshToken() != ""; got != tt.wantRefresh {
				t.Fatalf("refresh token given: %v, want %v", got, tt.wantRefresh)
			}
			id, err := e.svc.Verifier().Verify(ctx, resp.GetAccessToken())
			if err != nil {
				t.Fatalf("access token refused: %v", err)
			}
			if id.UserID != resp.GetUser().GetId() || !resp.GetUser().GetGuest() {
				t.Fatalf("token for %q, user %v", id.UserID, resp.GetUser())
			}
		})
	}
}
