package actor

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

type roomChanged struct{ Room string }

func TestEventStream(t *testing.T) {
	es := NewEventStream()
	var a, b []string
	var all []any
	var stringers []string
	unsubA := Subscribe(es, func(e roomChanged) { a = append(a, e.Room) })
	unsubB := Subscribe(es, func(e roomChanged) { b = append(b, "b:"+e.Room) })
	unsubAll := Subscribe(es, func(v any) { all = append(all, v) })
	unsubS := Subscribe(es, func(v fmt.Stringer) { stringers = append(stringers, v.String()) })
	otherCalled := false
	unsubOther := Subscribe(es, func(int) { otherCalled = true })
	defer unsubOther()

	es.Publish(roomChanged{"lobby"})
	es.Publish("not a room")
	es.Publish(named("x"))
	require.Equal(t, []string{"lobby"}, a)
	require.Equal(t, []string{"b:lobby"}, b)
	require.Equal(t, []any{roomChanged{"lobby"}, "not a room", named("x")}, all)
	require.Equal(t, []string{"x"}, stringers)
	require.False(t, otherCalled)

	unsubA()
	unsubA() // idempotent
	unsubAll()
	unsubS()
	es.Publish(roomChanged{"r2"})
	require.Equal(t, []string{"lobby"}, a)
	require.Equal(t, []string{"b:lobby", "b:r2"}, b)
	require.Len(t, all, 3)
	unsubB()
	es.Publish(roomChanged{"r3"})
	require.Len(t, b, 2)
	es.Publish(nil) // ignored
}

type named string

func (n named) String() string { return string(n) }

func TestSubscribeDuringPublish(t *testing.T) {
	es := NewEventStream()
	var unsub func()
	calls := 0
	unsub = Subscribe(es, func(int) { calls++; unsub() })
	es.Publish(1)
	es.Publish(2)
	require.Equal(t, 1, calls)
}
