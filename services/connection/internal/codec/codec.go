package codec

import (
	"fmt"
	"sync"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Format is a wire format of the client protocol.
type Format uint8

// The two formats; the zero value is Proto.
const (
	Proto Format = iota
	JSON
	numFormats
)

// Subprotocol names negotiated in the WebSocket handshake.
const (
	SubprotocolProto = "pianorhythm.v1.proto"
	SubprotocolJSON  = "pianorhythm.v1.json"
)

// Subprotocols lists the accepted subprotocols, preferred first.
var Subprotocols = []string{SubprotocolProto, SubprotocolJSON}

// FromSubprotocol returns the format negotiated as name; ok is false for
// anything else (including none).
func FromSubprotocol(name string) (f Format, ok bool) {
	switch name {
	case SubprotocolProto:
		return Proto, true
	case SubprotocolJSON:
		return JSON, true
	}
	return 0, false
}

// String is the subprotocol name.
func (f Format) String() string {
	if f == JSON {
		return SubprotocolJSON
	}
	return SubprotocolProto
}

// MessageType is the WebSocket frame type of the format.
func (f Format) MessageType() websocket.MessageType {
	if f == JSON {
		return websocket.MessageText
	}
	return websocket.MessageBinary
}

var (
	jsonOut = protojson.MarshalOptions{}
	jsonIn  = protojson.UnmarshalOptions{DiscardUnknown: true}
)

// DecodeClient parses one client frame of format f into m (which is reset).
// typ is the frame's type; a frame of the other type is refused.
func (f Format) DecodeClient(typ websocket.MessageType, data []byte, m *pb.ClientMessage) error {
	if typ != f.MessageType() {
		return fmt.Errorf("decode client message: %v frame on %s", typ, f)
	}
	var err error
	if f == JSON {
		err = jsonIn.Unmarshal(data, m)
	} else {
		m.Reset()
		err = proto.Unmarshal(data, m)
	}
	if err != nil {
		return fmt.Errorf("decode client message: %w", err)
	}
	return nil
}

// Encode returns the frame payload of m in format f.
func (f Format) Encode(m proto.Message) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if f == JSON {
		b, err = jsonOut.Marshal(m)
	} else {
		b, err = proto.Marshal(m)
	}
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", f, err)
	}
	return b, nil
}

// Frame is one ServerMessage shared by every recipient, encoded lazily and
// at most once per format. It is safe for concurrent use; the message must
// not be changed after NewFrame, and the returned bytes must not be changed.
type Frame struct {
	msg  *pb.ServerMessage
	once [numFormats]sync.Once
	data [numFormats][]byte
	err  [numFormats]error
}

// NewFrame wraps m.
func NewFrame(m *pb.ServerMessage) *Frame { return &Frame{msg: m} }

// Message is the wrapped message (read-only).
func (fr *Frame) Message() *pb.ServerMessage { return fr.msg }

// Bytes returns the payload in format f, encoding it on first use.
func (fr *Frame) Bytes(f Format) ([]byte, error) {
	fr.once[f].Do(func() { fr.data[f], fr.err[f] = f.Encode(fr.msg) })
	return fr.data[f], fr.err[f]
}
