package fleet_test

import (
	"os"
	"testing"

	"github.com/pianorhythm/server/e2e/fleet"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fleet.Cleanup()
	os.Exit(code)
}
