package store_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/pianorhythm/server/pkg/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(storetest.Wrap(m))
}
