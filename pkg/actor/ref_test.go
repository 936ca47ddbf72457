package actor

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAskEcho(t *testing.T) {
	sys := newTestSystem(t, Config{})
	ref, err := sys.Spawn(echoProps())
	require.NoError(t, err)
	got, err := Ask[string](testCtx(t), ref, "hi")
	require.NoError(t, err)
	require.Equal(t, "hi", got)
}
