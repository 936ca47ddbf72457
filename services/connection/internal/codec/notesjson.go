package codec

import (
	"unicode/utf8"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// decodeNotesJSON is the fast path of the JSON format for the one message
// clients send many times a second: a note batch,
//
//	{"id":"7","notes":{"time":"1764230400000","events":[{"kind":"NOTE_ON","note":60,"velocity":90,"delayMs":0}]}}
//
// (keys in any order, "id", "time", "userId" and each event's fields
// optional). It reads that form without reflection and reports false for
// anything else, including every form it does not know to be equivalent
// (escapes in strings, numbers as strings or with fractions or exponents,
// enum numbers, proto field names, null, duplicate keys, other fields,
// trailing data): DecodeClient then uses protojson, which decides. What it
// accepts it decodes exactly as protojson does (FuzzNotesJSON).
func decodeNotesJSON(data []byte, m *pb.ClientMessage) bool {
	p := jscan{b: data}
	var (
		id             string
		nb             *pb.NoteBatch
		seenID, seenNB bool
	)
	ok := p.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			if seenID {
				return false
			}
			seenID = true
			var ok bool
			id, ok = p.str()
			return ok
		case "notes":
			if seenNB {
				return false
			}
			seenNB = true
			nb = new(pb.NoteBatch)
			return p.batch(nb)
		}
		return false
	})
	if !ok || !seenNB {
		return false
	}
	p.ws()
	if p.i != len(p.b) {
		return false
	}
	m.Reset()
	m.Id = id
	m.Payload = &pb.ClientMessage_Notes{Notes: nb}
	return true
}

// jscan reads JSON from b at i.
type jscan struct {
	b []byte
	i int
}

func (p *jscan) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// lit consumes c after whitespace.
func (p *jscan) lit(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// raw reads a string without escapes and returns its bytes.
func (p *jscan) raw() ([]byte, bool) {
	if !p.lit('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

func (p *jscan) str() (string, bool) {
	s, ok := p.raw()
	return string(s), ok
}

// object reads an object, calling field for each key with the scanner
// before the value; field reads the value.
func (p *jscan) object(field func(key []byte) bool) bool {
	if !p.lit('{') {
		return false
	}
	if p.lit('}') {
		return true
	}
	for {
		key, ok := p.raw()
		if !ok || !p.lit(':') {
			return false
		}
		p.ws()
		if !field(key) {
			return false
		}
		if p.lit(',') {
			continue
		}
		return p.lit('}')
	}
}

// digits reads a plain non-negative integer (no sign, no leading zero, no
// fraction or exponent) of at most max.
func (p *jscan) digits(max uint64) (uint64, bool) {
	p.ws()
	start := p.i
	var v uint64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		d := uint64(p.b[p.i] - '0')
		if v > (max-d)/10 {
			return 0, false
		}
		v = v*10 + d
		p.i++
	}
	n := p.i - start
	if n == 0 || (n > 1 && p.b[start] == '0') {
		return 0, false
	}
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	return v, true
}

// int64 reads an int64 as a plain number or a quoted plain number.
func (p *jscan) int64() (int64, bool) {
	p.ws()
	quoted := p.i < len(p.b) && p.b[p.i] == '"'
	if quoted {
		p.i++
		// Inside the quotes protojson takes the number alone: digits
		// would skip a space that it refuses (" 1").
		if p.i < len(p.b) && p.b[p.i] != '-' && (p.b[p.i] < '0' || p.b[p.i] > '9') {
			return 0, false
		}
	}
	neg := p.i < len(p.b) && p.b[p.i] == '-'
	if neg {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] < '0' || p.b[p.i] > '9') {
			return 0, false // "- 1"
		}
	}
	limit := uint64(1<<63 - 1)
	if neg {
		limit++
	}
	u, ok := p.digits(limit)
	if !ok {
		return 0, false
	}
	if quoted && (p.i >= len(p.b) || p.b[p.i] != '"') {
		return 0, false
	}
	if quoted {
		p.i++
	}
	if neg {
		return int64(-u), true //nolint:gosec // -(1<<63) wraps to itself
	}
	return int64(u), true
}

func (p *jscan) uint32() (uint32, bool) {
	v, ok := p.digits(1<<32 - 1)
	return uint32(v), ok
}

func (p *jscan) batch(nb *pb.NoteBatch) bool {
	var seenTime, seenEvents, seenUser bool
	return p.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "time":
			if seenTime {
				return false
			}
			seenTime = true
			nb.Time, ok = p.int64()
		case "userId":
			if seenUser {
				return false
			}
			seenUser = true
			nb.UserId, ok = p.str()
		case "events":
			if seenEvents {
				return false
			}
			seenEvents = true
			ok = p.events(nb)
		}
		return ok
	})
}

func (p *jscan) events(nb *pb.NoteBatch) bool {
	if !p.lit('[') {
		return false
	}
	if p.lit(']') {
		return true
	}
	for {
		e := new(pb.NoteEvent)
		if !p.event(e) {
			return false
		}
		nb.Events = append(nb.Events, e)
		if p.lit(',') {
			continue
		}
		return p.lit(']')
	}
}

// noteKinds are the enum names protojson reads for NoteKind.
var noteKinds = map[string]pb.NoteKind{
	"NOTE_KIND_UNSPECIFIED": pb.NoteKind_NOTE_KIND_UNSPECIFIED,
	"NOTE_ON":               pb.NoteKind_NOTE_ON,
	"NOTE_OFF":              pb.NoteKind_NOTE_OFF,
	"SUSTAIN_ON":            pb.NoteKind_SUSTAIN_ON,
	"SUSTAIN_OFF":           pb.NoteKind_SUSTAIN_OFF,
}

func (p *jscan) event(e *pb.NoteEvent) bool {
	var seen [4]bool
	once := func(i int) bool {
		if seen[i] {
			return false
		}
		seen[i] = true
		return true
	}
	return p.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "kind":
			if !once(0) {
				return false
			}
			var name []byte
			if name, ok = p.raw(); ok {
				e.Kind, ok = noteKinds[string(name)]
			}
		case "note":
			if !once(1) {
				return false
			}
			e.Note, ok = p.uint32()
		case "velocity":
			if !once(2) {
				return false
			}
			e.Velocity, ok = p.uint32()
		case "delayMs":
			if !once(3) {
				return false
			}
			e.DelayMs, ok = p.uint32()
		}
		return ok
	})
}
