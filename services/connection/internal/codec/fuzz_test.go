package codec

import (
	"testing"
	"unicode/utf8"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// FuzzDecodeClient: whatever a client sends, in either wire format, the
// decoder does not panic; a frame of the wrong type is refused; what it
// accepts has valid UTF-8 in every string, and encodes and decodes again
// to the same message in both formats (so what the edge acts on is what
// the client sent, whichever format it chose). The seed corpus is
// testdata/fuzz/FuzzDecodeClient.
func FuzzDecodeClient(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, json bool) {
		format := Proto
		if json {
			format = JSON
		}
		other := websocket.MessageText
		if format == JSON {
			other = websocket.MessageBinary
		}
		var m pb.ClientMessage
		if err := format.DecodeClient(other, data, &m); err == nil {
			t.Fatalf("a %v frame was accepted on %s", other, format)
		}
		if err := format.DecodeClient(format.MessageType(), data, &m); err != nil {
			return
		}
		checkStrings(t, m.ProtoReflect())
		for _, g := range []Format{Proto, JSON} {
			b, err := g.Encode(&m)
			if err != nil {
				t.Fatalf("accepted %q does not encode as %s: %v", data, g, err)
			}
			var back pb.ClientMessage
			if err := g.DecodeClient(g.MessageType(), b, &back); err != nil {
				t.Fatalf("%s of accepted %q does not decode: %v", g, data, err)
			}
			want := proto.Clone(&m)
			if g == JSON {
				dropUnknown(want.ProtoReflect()) // JSON has no unknown fields to carry
			}
			if !proto.Equal(want, &back) {
				t.Fatalf("%s round trip of %q: %v, want %v", g, data, &back, want)
			}
		}
	})
}

// checkStrings fails on a string field with invalid UTF-8, at any depth.
func checkStrings(t *testing.T, m protoreflect.Message) {
	t.Helper()
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				checkValue(t, fd, l.Get(i))
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				if !utf8.ValidString(k.String()) {
					t.Fatalf("map key of %s is not UTF-8", fd.FullName())
				}
				checkValue(t, fd.MapValue(), mv)
				return true
			})
		default:
			checkValue(t, fd, v)
		}
		return true
	})
}

func checkValue(t *testing.T, fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	t.Helper()
	switch fd.Kind() {
	case protoreflect.StringKind:
		if !utf8.ValidString(v.String()) {
			t.Fatalf("%s = %q is not UTF-8", fd.FullName(), v.String())
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		checkStrings(t, v.Message())
	}
}

// dropUnknown clears the unknown fields of m and of every message in it.
func dropUnknown(m protoreflect.Message) {
	m.SetUnknown(nil)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				dropUnknown(l.Get(i).Message())
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				dropUnknown(mv.Message())
				return true
			})
		default:
			dropUnknown(v.Message())
		}
		return true
	})
}
