package rpc_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
)

type exampleState struct {
	pb.UnimplementedStateServiceServer
}

func (exampleState) GetUser(_ context.Context, req *pb.GetUserRequest) (*pb.User, error) {
	if req.GetUserId() == "" {
		return nil, rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, "user_id is required")
	}
	return &pb.User{}, nil
}

func Example() {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Every program of a fleet shares the service keys (PR_SERVICE_KEY):
	// servers refuse calls not signed with them.
	keys := auth.NewServiceKeys()

	// Server: listen, register, mark serving, serve until ctx is done.
	srv, err := rpc.NewServer(rpc.ServerConfig{Name: "state", Logger: log, ServiceKeys: keys})
	if err != nil {
		fmt.Println(err)
		return
	}
	pb.RegisterStateServiceServer(srv.GRPC(), exampleState{})
	srv.SetServing("pianorhythm.v1.StateService", true)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()

	// Client: deadline, breaker, retries, tracing and the service
	// credential come with Dial.
	conn, err := rpc.Dial(rpc.ClientConfig{Target: srv.Addr(), Name: "state", Logger: log, ServiceKeys: keys, Caller: "room"})
	if err != nil {
		stop()
		fmt.Println(err, <-served)
		return
	}
	state := pb.NewStateServiceClient(conn)
	_, err = state.GetUser(context.Background(), &pb.GetUserRequest{})
	fmt.Println(rpc.Reason(err))

	_ = conn.Close()
	stop()
	fmt.Println(<-served)
	// Output:
	// INVALID_ARGUMENT
	// <nil>
}
