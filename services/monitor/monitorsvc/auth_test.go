package monitorsvc_test

import (
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestWhoMaySeeInternals: the status is public, reports need a signed-in
// caller (who is recorded), error groups and logs are for staff.
func TestWhoMaySeeInternals(t *testing.T) {
	e := start(t, monitorsvc.Config{}, monitorsvc.Deps{})
	anon := as(t, auth.Identity{})
	member := as(t, auth.Identity{UserID: "bob", Roles: []pb.Role{pb.Role_MEMBER}})
	mod := as(t, auth.Identity{UserID: "mod", Roles: []pb.Role{pb.Role_MODERATOR}})
	report := &pb.ErrorReport{Service: "web", Message: "TypeError: x is undefined"}
	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"anyone reads the status", func() error { _, err := e.client.Status(anon, &pb.StatusRequest{}); return err }, codes.OK},
		{"anonymous report", func() error { _, err := e.client.ReportError(anon, report); return err }, codes.Unauthenticated},
		{"member report", func() error { _, err := e.client.ReportError(member, report); return err }, codes.OK},
		{"member lists errors", func() error {
			_, err := e.client.ListErrorGroups(member, &pb.ListErrorGroupsRequest{})
			return err
		}, codes.PermissionDenied},
		{"member reads logs", func() error { _, err := e.client.RecentLogs(member, &pb.RecentLogsRequest{}); return err }, codes.PermissionDenied},
		{"moderator lists errors", func() error {
			_, err := e.client.ListErrorGroups(mod, &pb.ListErrorGroupsRequest{})
			return err
		}, codes.OK},
		{"moderator reads logs", func() error { _, err := e.client.RecentLogs(mod, &pb.RecentLogsRequest{}); return err }, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status.Code(tt.call()); got != tt.want {
				t.Fatalf("code = %v, want %v", got, tt.want)
			}
		})
	}
	groups, err := e.client.ListErrorGroups(mod, &pb.ListErrorGroupsRequest{})
	if err != nil || len(groups.GetGroups()) != 1 {
		t.Fatalf("groups = %v, %v; want the member's report", groups, err)
	}
}
