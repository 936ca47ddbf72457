package e2e

import (
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestEveryClientMessageIsAnswered sends every case of the ClientMessage
// payload oneof (found by reflection, empty) over a real socket: each is
// routed to a handler, which answers its id with something other than the
// refusal of an unknown message.
func TestEveryClientMessageIsAnswered(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	oneof := (&pb.ClientMessage{}).ProtoReflect().Descriptor().Oneofs().ByName("payload")
	for i := range oneof.Fields().Len() {
		fd := oneof.Fields().Get(i)
		t.Run(fd.JSONName(), func(t *testing.T) {
			c := e.dial(t, codec.JSON, "")
			m := &pb.ClientMessage{}
			m.ProtoReflect().Set(fd, protoreflect.ValueOfMessage(m.ProtoReflect().NewField(fd).Message()))
			id := c.send(m)
			reply := c.await("reply to "+fd.JSONName(), 10*time.Second, func(m *pb.ServerMessage) bool { return m.GetId() == id })
			if err := reply.GetError(); err != nil && err.GetMessage() == "unknown or empty message" {
				t.Fatalf("%s is not routed: %v", fd.Name(), reply)
			}
			t.Logf("%s -> %v", fd.JSONName(), reply)
		})
	}
}
