package edge

import (
	"context"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// route is how one case of the payload oneof is handled.
type route struct {
	span   string // constant per case, so naming a span allocates nothing
	inline bool
	handle handler
}

var (
	payloadOneof = (&pb.ClientMessage{}).ProtoReflect().Descriptor().Oneofs().ByName("payload")
	// routes is indexed by the payload's field number.
	routes = buildRoutes()
	// unknownRoute answers a message without a known payload.
	unknownRoute = route{span: "ws.unknown", inline: true, handle: func(*connActor, context.Context, string, *pb.ClientMessage) (work, error) {
		return nil, invalid("unknown or empty message")
	}}
)

func buildRoutes() []route {
	fields := payloadOneof.Fields()
	maxNum := protoreflect.FieldNumber(0)
	for i := range fields.Len() {
		maxNum = max(maxNum, fields.Get(i).Number())
	}
	out := make([]route, maxNum+1)
	for i := range fields.Len() {
		fd := fields.Get(i)
		h, ok := handlers[fd.Name()]
		if !ok {
			continue // TestEveryClientMessageHasAHandler names it
		}
		out[fd.Number()] = route{span: "ws." + fd.JSONName(), inline: h.inline, handle: h.handle}
	}
	return out
}

// routeOf is the route of m's payload.
func routeOf(m *pb.ClientMessage) route {
	fd := m.ProtoReflect().WhichOneof(payloadOneof)
	if fd == nil || int(fd.Number()) >= len(routes) || routes[fd.Number()].handle == nil {
		return unknownRoute
	}
	return routes[fd.Number()]
}
