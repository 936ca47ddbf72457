// Package roomsvc is the room service (RoomManager): room lifecycle, rules,
// membership, ownership, moderation and chat, served as pb.RoomService.
//
//	svc, err := roomsvc.New(roomsvc.Config{}, roomsvc.Deps{State: stateClient, Verifier: v})
//	svc.Register(grpcServer)
//	defer svc.Close(ctx)
//
// Callers are identified with pkg/auth. An identity whose UserID starts with
// "system:" is an internal service (the edge's GhostTracker): it may remove
// any user from a room but never joins or owns one.
package roomsvc
