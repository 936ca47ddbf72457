package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// as is a context whose calls act for a user with role (the identity
// metadata a trusted service sets; the auth interceptor reads it).
func as(t *testing.T, role pb.Role) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return auth.OutgoingContext(ctx, auth.Identity{UserID: "staff-" + role.String(), DisplayName: "Staff", Roles: []pb.Role{role}})
}

func TestAdminRPCsRequireStaff(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	calls := map[string]func(ctx context.Context) error{
		"ListConnections": func(ctx context.Context) error {
			_, err := e.admin.ListConnections(ctx, &pb.ListConnectionsRequest{})
			return err
		},
		"CloseConnection": func(ctx context.Context) error {
			_, err := e.admin.CloseConnection(ctx, &pb.CloseConnectionRequest{UserId: "u"})
			return err
		},
		"Broadcast": func(ctx context.Context) error {
			_, err := e.admin.Broadcast(ctx, &pb.BroadcastRequest{Text: "hi"})
			return err
		},
	}
	callers := []struct {
		name string
		ctx  context.Context
		want codes.Code
	}{
		{"anonymous", context.Background(), codes.Unauthenticated},
		{"member", as(t, pb.Role_MEMBER), codes.PermissionDenied},
		{"pro", as(t, pb.Role_PRO), codes.PermissionDenied},
		{"moderator", as(t, pb.Role_MODERATOR), codes.OK},
		{"admin", as(t, pb.Role_ADMIN), codes.OK},
	}
	for name, call := range calls {
		for _, c := range callers {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				if got := status.Code(call(c.ctx)); got != c.want {
					t.Fatalf("code %v, want %v", got, c.want)
				}
			})
		}
	}
}

func TestAdminListAndCloseConnections(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	a := e.dial(t, codec.JSON, "")
	b := e.dial(t, codec.Proto, "")
	c := e.dial(t, codec.JSON, "")
	a.join("admin-room", true)
	b.join("admin-room", false)
	mod := as(t, pb.Role_MODERATOR)

	res, err := e.admin.ListConnections(mod, &pb.ListConnectionsRequest{RoomId: "admin-room"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, conn := range res.GetConnections() {
		got[conn.GetConnectionId()] = true
		if conn.GetRoomId() != "admin-room" || conn.GetInstanceId() != e.svc.InstanceID() {
			t.Fatalf("listed %v", conn)
		}
	}
	if len(got) != 2 || !got[a.welcome.GetConnectionId()] || !got[b.welcome.GetConnectionId()] {
		t.Fatalf("room listing %v, want a and b", res.GetConnections())
	}
	byUser, err := e.admin.ListConnections(mod, &pb.ListConnectionsRequest{UserId: c.id()})
	if err != nil || len(byUser.GetConnections()) != 1 || byUser.GetConnections()[0].GetUserId() != c.id() {
		t.Fatalf("user listing %v %v", byUser, err)
	}

	tests := []struct {
		name   string
		req    *pb.CloseConnectionRequest
		client *client
		code   websocket.StatusCode
	}{
		{"by connection, default code 4000", &pb.CloseConnectionRequest{ConnectionId: a.welcome.GetConnectionId()}, a, 4000},
		{"by user, code 4005", &pb.CloseConnectionRequest{UserId: b.id(), Code: 4005, Reason: "replaced"}, b, 4005},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.admin.CloseConnection(mod, tt.req)
			if err != nil || res.GetClosed() != 1 {
				t.Fatalf("closed %v, err %v", res.GetClosed(), err)
			}
			if code := tt.client.closeCode(5 * time.Second); code != tt.code {
				t.Fatalf("close code %d, want %d", code, tt.code)
			}
		})
	}
	t.Run("unknown connection: none closed", func(t *testing.T) {
		res, err := e.admin.CloseConnection(mod, &pb.CloseConnectionRequest{ConnectionId: "nope"})
		if err != nil || res.GetClosed() != 0 {
			t.Fatalf("closed %v, err %v", res.GetClosed(), err)
		}
	})
	t.Run("code outside 4000-4999: invalid", func(t *testing.T) {
		_, err := e.admin.CloseConnection(mod, &pb.CloseConnectionRequest{UserId: c.id(), Code: 1000})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("err %v", err)
		}
	})
}

// TestAdminBroadcast: a system chat line reaches the members of every
// room, on every instance.
func TestAdminBroadcast(t *testing.T) {
	w := newWorld(t)
	ea := w.edge(connsvc.Config{InstanceID: "edge-a"})
	eb := w.edge(connsvc.Config{InstanceID: "edge-b"})
	one := ea.dial(t, codec.JSON, "")
	two := eb.dial(t, codec.Proto, "")
	one.join("bc-one", true)
	two.join("bc-two", true)

	res, err := ea.admin.Broadcast(as(t, pb.Role_ADMIN), &pb.BroadcastRequest{Text: "maintenance at noon"})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetRooms() < 2 {
		t.Fatalf("broadcast reached %d rooms, want at least 2", res.GetRooms())
	}
	for _, c := range []*client{one, two} {
		m := c.await("broadcast", 5*time.Second, func(m *pb.ServerMessage) bool { return m.GetChat() != nil })
		if msg := m.GetChat().GetMessage(); msg.GetText() != "maintenance at noon" || !msg.GetSystem() {
			t.Fatalf("chat %v", msg)
		}
	}
}
