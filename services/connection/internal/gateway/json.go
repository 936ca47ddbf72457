package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Internal are the fields of the public messages that only the services
// use: the REST API never returns them, even empty (a client cannot tell
// an internal field from a public one). Keep in step with the fields
// marked "Internal:" in api/proto.
var Internal = []protoreflect.FullName{
	"pianorhythm.v1.Room.password_hash",
	"pianorhythm.v1.Room.version",
}

// Marshaler is the REST API's JSON: protojson with every public field
// present (zero values included, as grpc-gateway's default), Internal
// fields left out, and request bodies decoded strictly: an unknown field
// is an error (400 INVALID_ARGUMENT naming it) rather than silently
// ignored, so a misplaced `"password"` does not create an open room.
func Marshaler() runtime.Marshaler {
	internal := make(map[protoreflect.FullName]bool, len(Internal))
	for _, n := range Internal {
		internal[n] = true
	}
	return &runtime.HTTPBodyMarshaler{Marshaler: &publicJSON{
		JSONPb: runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		},
		internal: internal,
	}}
}

// publicJSON strips the internal fields from what JSONPb writes and names
// the request body in decoding errors. Safe for concurrent use.
type publicJSON struct {
	runtime.JSONPb
	internal map[protoreflect.FullName]bool
	holds    sync.Map // protoreflect.FullName of a message -> bool: an internal field is within reach
}

func (p *publicJSON) Marshal(v any) ([]byte, error) {
	out, err := p.JSONPb.Marshal(v)
	m, ok := v.(proto.Message)
	if err != nil || !ok || !p.reaches(m.ProtoReflect().Descriptor(), nil) {
		return out, err
	}
	var tree any
	if err := json.Unmarshal(out, &tree); err != nil {
		return nil, fmt.Errorf("strip internal fields: %w", err)
	}
	p.strip(m.ProtoReflect().Descriptor(), tree)
	return json.Marshal(tree)
}

// reaches reports whether md or a message below it has an internal field.
func (p *publicJSON) reaches(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if v, ok := p.holds.Load(md.FullName()); ok {
		return v.(bool)
	}
	if seen[md.FullName()] { // a recursive message: decided by its first visit
		return false
	}
	if seen == nil {
		seen = map[protoreflect.FullName]bool{}
	}
	seen[md.FullName()] = true
	found := false
	fields := md.Fields()
	for i := 0; i < fields.Len() && !found; i++ {
		fd := fields.Get(i)
		if p.internal[fd.FullName()] {
			found = true
		} else if sub := messageOf(fd); sub != nil {
			found = p.reaches(sub, seen)
		}
	}
	p.holds.Store(md.FullName(), found)
	return found
}

// strip deletes md's internal fields from its JSON form j, recursively.
func (p *publicJSON) strip(md protoreflect.MessageDescriptor, j any) {
	obj, ok := j.(map[string]any)
	if !ok || !p.reaches(md, nil) {
		return
	}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		name := fd.JSONName()
		if p.internal[fd.FullName()] {
			delete(obj, name)
			continue
		}
		sub := messageOf(fd)
		if sub == nil {
			continue
		}
		switch {
		case fd.IsList():
			list, _ := obj[name].([]any)
			for _, e := range list {
				p.strip(sub, e)
			}
		case fd.IsMap():
			entries, _ := obj[name].(map[string]any)
			for _, e := range entries {
				p.strip(sub, e)
			}
		default:
			p.strip(sub, obj[name])
		}
	}
}

// messageOf is the message type of fd's values (a map's value type), or
// nil for scalars and the well-known types (their JSON is not an object
// of fields).
func messageOf(fd protoreflect.FieldDescriptor) protoreflect.MessageDescriptor {
	if fd.IsMap() {
		fd = fd.MapValue()
	}
	md := fd.Message()
	if md == nil || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil
	}
	return md
}

func (p *publicJSON) NewDecoder(r io.Reader) runtime.Decoder {
	d := p.JSONPb.NewDecoder(r)
	return runtime.DecoderFunc(func(v any) error {
		if err := d.Decode(v); err != nil {
			if errors.Is(err, io.EOF) {
				return err // an empty body: the handlers allow it
			}
			return fmt.Errorf("request body: %s", strings.TrimPrefix(err.Error(), "proto: "))
		}
		return nil
	})
}

func (p *publicJSON) Unmarshal(data []byte, v any) error {
	if err := p.JSONPb.Unmarshal(data, v); err != nil {
		return fmt.Errorf("request body: %s", strings.TrimPrefix(err.Error(), "proto: "))
	}
	return nil
}
