package roomsvc_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

// BenchmarkJoinLeave measures a join followed by a leave, over gRPC on
// loopback, against the benchmark's state backend. One op = both calls.
func BenchmarkJoinLeave(b *testing.B) {
	e := newEnv(b, roomsvc.Config{Clock: roomsvc.NewFakeClock(t0)})
	must[*pb.Room](b)(e.rooms.CreateRoom(as(alice), &pb.CreateRoomRequest{RoomId: "bench"}))
	must[*pb.JoinRoomResponse](b)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "bench"}))

	b.Run("one-room", func(b *testing.B) {
		ctx := as(bob)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.rooms.JoinRoom(ctx, &pb.JoinRoomRequest{RoomId: "bench", ConnectionId: "c"}); err != nil {
				b.Fatal(err)
			}
			if _, err := e.rooms.LeaveRoom(ctx, &pb.LeaveRoomRequest{RoomId: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	var n atomic.Int64 // room names unique across the benchmark's runs
	b.Run("parallel-rooms", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(p *testing.PB) {
			i := n.Add(1)
			room := fmt.Sprintf("bench-%d", i)
			id := auth.Identity{UserID: fmt.Sprintf("u%d", i), Roles: []pb.Role{pb.Role_MEMBER}}
			ctx := as(id)
			if _, err := e.rooms.CreateRoom(ctx, &pb.CreateRoomRequest{RoomId: room}); err != nil {
				b.Error(err)
				return
			}
			for p.Next() {
				if _, err := e.rooms.JoinRoom(ctx, &pb.JoinRoomRequest{RoomId: room}); err != nil {
					b.Error(err)
					return
				}
				if _, err := e.rooms.LeaveRoom(ctx, &pb.LeaveRoomRequest{RoomId: room}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkChat measures SendChat over gRPC on loopback (validation, rate
// limit through state's Hit, SaveChatMessage, PublishRoomEvent).
func BenchmarkChat(b *testing.B) {
	e := newEnv(b, roomsvc.Config{ChatLimit: 1_000_000, OwnerChatLimit: 1_000_000, Clock: roomsvc.NewFakeClock(t0)})
	must[*pb.JoinRoomResponse](b)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "chat", Create: true}))
	must[*pb.JoinRoomResponse](b)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "chat"}))
	b.Run("one-sender", func(b *testing.B) {
		ctx := as(bob)
		req := &pb.SendChatRequest{RoomId: "chat", Text: "a fairly ordinary chat message"}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.rooms.SendChat(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel-one-room", func(b *testing.B) {
		req := &pb.SendChatRequest{RoomId: "chat", Text: "a fairly ordinary chat message"}
		b.ReportAllocs()
		b.RunParallel(func(p *testing.PB) {
			ctx := as(bob)
			for p.Next() {
				if _, err := e.rooms.SendChat(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
