package mpp

import (
	"math"
	"strconv"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// The MPP keyboard: 88 keys, MIDI 21 (A0, MPP "a-1") to 108 (C8, MPP "c7").
// MPP numbers octaves one lower than scientific pitch (its "c3" is middle
// C, MIDI 60) and spells sharps with "s" ("cs3").
const (
	lowestKey  = 21
	highestKey = 108
	numKeys    = highestKey - lowestKey + 1
)

// keyNames[i] is the MPP name of MIDI note lowestKey+i; keyNumbers is the
// reverse. Both are built once and only read.
var (
	keyNames   = buildKeyNames()
	keyNumbers = buildKeyNumbers(keyNames)
)

func buildKeyNames() [numKeys]string {
	pitches := [12]string{"c", "cs", "d", "ds", "e", "f", "fs", "g", "gs", "a", "as", "b"}
	var names [numKeys]string
	for i := range names {
		midi := lowestKey + i
		// MIDI 12 is scientific C0, MPP's C-1.
		names[i] = pitches[midi%12] + strconv.Itoa(midi/12-2)
	}
	return names
}

func buildKeyNumbers(names [numKeys]string) map[string]uint32 {
	m := make(map[string]uint32, numKeys)
	for i, n := range names {
		m[n] = uint32(lowestKey + i)
	}
	return m
}

// NoteName is the MPP key name of MIDI note n; ok is false for notes the
// MPP keyboard lacks (below 21 or above 108).
func NoteName(n uint32) (name string, ok bool) {
	if n < lowestKey || n > highestKey {
		return "", false
	}
	return keyNames[n-lowestKey], true
}

// MIDINote is the MIDI number of the MPP key name; ok is false for a name
// that is not one of the 88 keys.
func MIDINote(name string) (n uint32, ok bool) {
	n, ok = keyNumbers[name]
	return n, ok
}

// MIDIVelocity maps an MPP velocity (0-1; out of range clamped, as MPP
// clients clamp what they receive) to 0-127.
func MIDIVelocity(v float64) uint32 {
	switch {
	case !(v > 0): // also NaN
		return 0
	case v >= 1:
		return 127
	}
	return uint32(math.Round(v * 127))
}

// MPPVelocity maps a MIDI velocity to MPP's 0-1 with three decimals, as the
// MPP browser client sends it; MIDIVelocity(MPPVelocity(k)) == k for every
// k in 0-127.
func MPPVelocity(v uint32) float64 {
	if v >= 127 {
		return 1
	}
	return math.Round(float64(v)/127*1000) / 1000
}

// defaultVelocity is what MPP clients play a note start without v at (0.5).
const defaultVelocity = 64

// appendNotes appends the MPP form of the events that have one: note on
// and off of keys on the MPP keyboard. MPP has no sustain pedal (its
// clients sustain locally), so pedal events are left out, as are notes off
// the keyboard. It returns the number of notes appended.
func appendNotes(b []byte, events []*pb.NoteEvent) ([]byte, int) {
	n := 0
	for _, e := range events {
		name, ok := NoteName(e.GetNote())
		if !ok {
			continue
		}
		var stop bool
		switch e.GetKind() {
		case pb.NoteKind_NOTE_ON:
		case pb.NoteKind_NOTE_OFF:
			stop = true
		default:
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"n":"`...)
		b = append(b, name...)
		b = append(b, '"')
		if stop {
			b = append(b, `,"s":1`...)
		} else {
			b = append(b, `,"v":`...)
			b = strconv.AppendFloat(b, MPPVelocity(e.GetVelocity()), 'f', -1, 64)
		}
		if d := e.GetDelayMs(); d > 0 {
			b = append(b, `,"d":`...)
			b = strconv.AppendUint(b, uint64(d), 10)
		}
		b = append(b, '}')
	}
	return b, n
}
