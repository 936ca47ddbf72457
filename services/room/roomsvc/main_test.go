package roomsvc_test

import (
	"testing"

	"go.uber.org/goleak"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startBackend picks the state backend of the tests.
func startBackend(t testing.TB, clk *roomsvc.FakeClock) backend { return startFake(t, clk) }

var _ = pb.Role_ADMIN
