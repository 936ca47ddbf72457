package codec

import (
	"errors"
	"fmt"
	"sync"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/mpp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Format is a wire format of the client protocol.
type Format uint8

// The formats; the zero value is Proto. MPP is the Multiplayer Piano
// protocol of /mpp (package mpp): its frames are encoded here only in the
// part that is the same for every recipient (mpp.Encode); the rest, and
// decoding, is the connection's mpp.Session.
const (
	Proto Format = iota
	JSON
	MPP
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

// NameMPP names the MPP format where a subprotocol name is shown (the
// admin listing of connections); /mpp negotiates no subprotocol.
const NameMPP = "mpp"

// String is the subprotocol name.
func (f Format) String() string {
	switch f {
	case JSON:
		return SubprotocolJSON
	case MPP:
		return NameMPP
	}
	return SubprotocolProto
}

// MessageType is the WebSocket frame type of the format.
func (f Format) MessageType() websocket.MessageType {
	if f == Proto {
		return websocket.MessageBinary
	}
	return websocket.MessageText
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
	switch f {
	case JSON:
		if decodeNotesJSON(data, m) {
			return nil
		}
		err = jsonIn.Unmarshal(data, m)
	case MPP:
		return errors.New("decode client message: MPP frames are decoded by the connection's mpp.Session")
	default:
		m.Reset()
		err = proto.Unmarshal(data, m)
	}
	if err != nil {
		return fmt.Errorf("decode client message: %w", err)
	}
	return nil
}

// Encode returns the frame payload of m in format f. For MPP it is the
// part of m's MPP form shared by every recipient, nil when there is none
// (see mpp.Encode); m must then be a *pb.ServerMessage.
func (f Format) Encode(m proto.Message) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	switch f {
	case JSON:
		b, err = jsonOut.Marshal(m)
	case MPP:
		sm, ok := m.(*pb.ServerMessage)
		if !ok {
			return nil, fmt.Errorf("encode %s: %T is not a server message", f, m)
		}
		b, err = mpp.Encode(sm)
	default:
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

// Bytes returns the payload in format f, encoding it on first use. For
// MPP, nil without an error means the message has no shared MPP form.
func (fr *Frame) Bytes(f Format) ([]byte, error) {
	fr.once[f].Do(func() { fr.data[f], fr.err[f] = f.Encode(fr.msg) })
	return fr.data[f], fr.err[f]
}
