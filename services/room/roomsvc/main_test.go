package roomsvc_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(storetest.Wrap(m))
}

// startBackend starts the real state service (embedded Redis and MongoDB
// unless REDIS_URL / MONGODB_URI are set). ROOM_FAKE_STATE=1 runs the
// tests against the in-memory fake instead, to tell a room bug from a
// state bug.
func startBackend(t testing.TB, clk *roomsvc.FakeClock) backend {
	if os.Getenv("ROOM_FAKE_STATE") == "1" {
		return startFake(t, clk)
	}
	return startState(t, clk)
}
