package roomsvc_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(storetest.Wrap(m))
}

// startBackend starts the real state service (embedded Redis and MongoDB
// unless REDIS_URL / MONGODB_URI are set): there is one implementation of
// state to keep true, and these tests run against it.
func startBackend(t testing.TB, clk *roomsvc.FakeClock) *stateBackend {
	return startState(t, clk)
}
