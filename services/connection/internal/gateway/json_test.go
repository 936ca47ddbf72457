package gateway

import (
	"strings"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

func TestMarshalerLeavesOutInternalFields(t *testing.T) {
	m := Marshaler()
	room := &pb.Room{Id: "r", HasPassword: true, PasswordHash: "$argon2id$...", Version: 7}
	for name, msg := range map[string]any{
		"a room":          room,
		"a list":          &pb.ListRoomsResponse{Rooms: []*pb.Room{room, {Id: "empty"}}},
		"a user, no room": &pb.User{Id: "u"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := m.Marshal(msg)
			if err != nil {
				t.Fatal(err)
			}
			for _, internal := range []string{"passwordHash", "version", "argon2id"} {
				if strings.Contains(string(out), internal) {
					t.Errorf("%s is in %s", internal, out)
				}
			}
		})
	}
	out, _ := m.Marshal(room)
	if !strings.Contains(string(out), `"hasPassword":true`) || !strings.Contains(string(out), `"memberCount":0`) {
		t.Errorf("public fields, zero ones included, are missing: %s", out)
	}
}

func TestMarshalerRefusesUnknownFields(t *testing.T) {
	m := Marshaler()
	var req pb.CreateRoomRequest
	err := m.NewDecoder(strings.NewReader(`{"roomId":"x","password":"secret"}`)).Decode(&req)
	if err == nil || !strings.Contains(err.Error(), `unknown field "password"`) {
		t.Fatalf("decode with an unknown field: %v, want an error naming it", err)
	}
	if err := m.NewDecoder(strings.NewReader(`{"roomId":"x","settings":{"password":"secret"}}`)).Decode(&req); err != nil {
		t.Fatalf("decode a valid body: %v", err)
	}
	if req.GetSettings().GetPassword() != "secret" {
		t.Errorf("settings.password = %q", req.GetSettings().GetPassword())
	}
}
