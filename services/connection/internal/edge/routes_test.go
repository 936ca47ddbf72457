package edge

import (
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestEveryClientMessageHasAHandler walks every case of the ClientMessage
// payload oneof: each has an entry in the handlers table, with a span
// named after its JSON name, and the table names nothing else.
func TestEveryClientMessageHasAHandler(t *testing.T) {
	fields := payloadOneof.Fields()
	if fields.Len() == 0 {
		t.Fatal("ClientMessage.payload has no cases")
	}
	for i := range fields.Len() {
		fd := fields.Get(i)
		t.Run(string(fd.Name()), func(t *testing.T) {
			m := &pb.ClientMessage{}
			m.ProtoReflect().Set(fd, protoreflect.ValueOfMessage(m.ProtoReflect().NewField(fd).Message()))
			r := routeOf(m)
			if r.handle == nil || r.span == unknownRoute.span {
				t.Fatalf("ClientMessage.%s (field %d) has no handler: add it to the handlers table in handlers.go", fd.Name(), fd.Number())
			}
			if want := "ws." + fd.JSONName(); r.span != want {
				t.Fatalf("span %q, want %q", r.span, want)
			}
		})
	}
	for name := range handlers {
		if fields.ByName(name) == nil {
			t.Errorf("handlers names %q, which is not a case of ClientMessage.payload", name)
		}
	}
	if r := routeOf(&pb.ClientMessage{}); r.span != unknownRoute.span {
		t.Fatalf("empty message routed to %q", r.span)
	}
}

func TestRouteOfDoesNotAllocate(t *testing.T) {
	m := &pb.ClientMessage{Payload: &pb.ClientMessage_Notes{Notes: &pb.NoteBatch{}}}
	if n := testing.AllocsPerRun(100, func() { _ = routeOf(m) }); n != 0 {
		t.Fatalf("routeOf allocates %v times", n)
	}
}
