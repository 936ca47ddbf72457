package codec

import (
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/protobuf/proto"
)

// FuzzNotesJSON: whatever the fast note decoder accepts, protojson accepts
// too and reads as the same message, so a client sees no difference
// between the two paths. The seed corpus is testdata/fuzz/FuzzNotesJSON.
func FuzzNotesJSON(f *testing.F) {
	for _, s := range notesSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast pb.ClientMessage
		if !decodeNotesJSON(data, &fast) {
			return
		}
		var full pb.ClientMessage
		if err := jsonIn.Unmarshal(data, &full); err != nil {
			t.Fatalf("fast path accepted %q, protojson refuses it: %v", data, err)
		}
		if !proto.Equal(&fast, &full) {
			t.Fatalf("%q: fast %v, protojson %v", data, &fast, &full)
		}
	})
}

var notesSamples = []string{
	`{"notes":{"time":"1764230400000","events":[{"kind":"NOTE_ON","note":60,"velocity":90,"delayMs":0}]}}`,
	`{"id":"7","notes":{"time":1764230400000,"events":[{"kind":"NOTE_ON","note":60,"velocity":90},{"kind":"NOTE_OFF","note":60,"delayMs":120},{"kind":"SUSTAIN_ON","velocity":127}]}}`,
	` { "notes" : { "events" : [ ] , "time" : "-5" } , "id" : "x" } `,
	`{"notes":{}}`,
	`{"notes":{"time":"1","events":[{"kind":"NOTE_ON","note":1e2}]}}`,
	`{"notes":{"time":"01"}}`,
	`{"notes":{"userId":"u","time":9223372036854775807}}`,
	`{"notes":{"time":-9223372036854775808}}`,
	`{"notes":{"events":[{"kind":"NOTE_ON","note":4294967296}]}}`,
	`{"notes":{"events":[{"kind":3}]}}`,
	`{"id":"1","id":"2","notes":{}}`,
	`{"notes":{"events":[{"delay_ms":5}]}}`,
	`{"notes":{}} x`,
	`{"chat":{"text":"hi"}}`,
}

// TestNotesJSONFastPath: the note batches clients send take the fast
// path, and every other frame is still decoded (or refused) by protojson.
func TestNotesJSONFastPath(t *testing.T) {
	tests := []struct {
		in   string
		fast bool
		ok   bool // DecodeClient accepts it
	}{
		{notesSamples[0], true, true},
		{notesSamples[1], true, true},
		{notesSamples[2], true, true},
		{notesSamples[3], true, true},
		{notesSamples[4], false, true}, // an exponent: protojson decides
		{notesSamples[5], false, false},
		{notesSamples[6], true, true},
		{notesSamples[7], true, true},
		{notesSamples[8], false, false},
		{notesSamples[9], false, true}, // an enum number
		{notesSamples[10], false, false},
		{notesSamples[11], false, true}, // the proto field name
		{notesSamples[12], false, false},
		{notesSamples[13], false, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var m pb.ClientMessage
			if got := decodeNotesJSON([]byte(tt.in), &m); got != tt.fast {
				t.Fatalf("fast path = %v, want %v", got, tt.fast)
			}
			err := JSON.DecodeClient(JSON.MessageType(), []byte(tt.in), &m)
			if (err == nil) != tt.ok {
				t.Fatalf("DecodeClient = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// BenchmarkDecodeNotesJSON compares the fast path with protojson on the
// web client's usual batch (four events).
func BenchmarkDecodeNotesJSON(b *testing.B) {
	data := []byte(`{"notes":{"time":"1764230400000","events":[{"kind":"NOTE_ON","note":60,"velocity":90,"delayMs":0},{"kind":"NOTE_ON","note":64,"velocity":90,"delayMs":12},{"kind":"NOTE_OFF","note":60,"delayMs":80},{"kind":"NOTE_OFF","note":64,"delayMs":95}]}}`)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		var m pb.ClientMessage
		for b.Loop() {
			if !decodeNotesJSON(data, &m) {
				b.Fatal("not fast")
			}
		}
	})
	b.Run("protojson", func(b *testing.B) {
		b.ReportAllocs()
		var m pb.ClientMessage
		for b.Loop() {
			if err := jsonIn.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
