package errtrack

import (
	"slices"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ a, b string }{
		{"room r-123 not found", "room r-9 not found"},
		{"user 6f1c2a9e-8d4b-4c1e-9f3a-2b7c5d8e1f00 banned", "user 0a1b2c3d-4e5f-4a1b-8c9d-0e1f2a3b4c5d banned"},
		{"bad pointer 0xc000123456", "bad pointer 0xc000fedcba"},
		{"timeout after 1500ms talking to 10.0.0.7:6379", "timeout after 20ms talking to 10.0.0.9:6379"},
		{"session u7f3 expired", "session u1 expired"},
	}
	for _, tt := range tests {
		t.Run(tt.a, func(t *testing.T) {
			if na, nb := Normalize(tt.a), Normalize(tt.b); na != nb {
				t.Fatalf("Normalize(%q) = %q, Normalize(%q) = %q; want equal", tt.a, na, tt.b, nb)
			}
		})
	}
	if Normalize("room not found") == Normalize("user not found") {
		t.Fatal("different words normalized alike")
	}
}

const stack = `goroutine 7 [running]:
runtime/debug.Stack()
	/usr/local/go/src/runtime/debug/stack.go:26 +0x5e
github.com/pianorhythm/server/pkg/rpc.recovered({0x1, 0x2}, ...)
	/src/pkg/rpc/interceptors_server.go:90 +0x45
panic({0x8d5e40?, 0xc0000a2f30?})
	/usr/local/go/src/runtime/panic.go:785 +0x132
github.com/pianorhythm/server/services/room/internal/room.(*Room).join(0xc0001, {0x2, 0x3})
	/src/services/room/internal/room/room.go:120 +0x1d
github.com/pianorhythm/server/services/room/internal/room.(*Room).Receive(0xc0001, 0xc0002)
	/src/services/room/internal/room/room.go:80 +0x99
github.com/pianorhythm/server/pkg/actor.(*cell).handle(...)
	/src/pkg/actor/cell.go:200
runtime.goexit()
	/usr/local/go/src/runtime/asm_amd64.s:1700 +0x1
created by github.com/pianorhythm/server/pkg/actor.(*System).newRef in goroutine 1
	/src/pkg/actor/system.go:130 +0x2
`

func TestTopFramesStartBelowThePanic(t *testing.T) {
	got := TopFrames(stack, 3)
	want := []string{
		"github.com/pianorhythm/server/services/room/internal/room.(*Room).join",
		"github.com/pianorhythm/server/services/room/internal/room.(*Room).Receive",
		"github.com/pianorhythm/server/pkg/actor.(*cell).handle",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("TopFrames = %q, want %q", got, want)
	}
}

func TestFingerprint(t *testing.T) {
	base := Fingerprint("room", "room r-1 is full", stack)
	tests := []struct {
		name                    string
		service, message, stack string
		same                    bool
	}{
		{"other ids", "room", "room r-77 is full", stack, true},
		{"other service", "state", "room r-1 is full", stack, false},
		{"other message", "room", "room r-1 is closed", stack, false},
		{"no stack", "room", "room r-1 is full", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fingerprint(tt.service, tt.message, tt.stack); (got == base) != tt.same {
				t.Fatalf("Fingerprint = %s, base %s, want same=%v", got, base, tt.same)
			}
		})
	}
}
