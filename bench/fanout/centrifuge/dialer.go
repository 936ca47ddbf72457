package centrifuge

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/centrifugal/centrifuge-go"
	"github.com/pianorhythm/server/internal/loadgen"
)

// Dialer connects centrifuge-go protobuf clients and subscribes each to
// its room's channel. A batch's payload is the sender's random id (8
// bytes), its stamp (8 bytes) and 4 bytes per note event; a client skips
// its own publications (Centrifuge echoes them).
type Dialer struct {
	// URL is the relay's websocket endpoint
	// (ws://host/connection/websocket).
	URL string
}

var _ loadgen.Dialer = Dialer{}

// Dial implements loadgen.Dialer.
func (d Dialer) Dial(ctx context.Context, src, room string, rec *loadgen.Recorder) (loadgen.Client, error) {
	nd := &net.Dialer{Timeout: 10 * time.Second}
	if src != "" {
		nd.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c := centrifuge.NewProtobufClient(d.URL, centrifuge.Config{
		NetDialContext: nd.DialContext, HandshakeTimeout: 10 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
	})
	cl := &client{c: c, id: rand.Uint64()}
	sub, err := c.NewSubscription("room:" + room)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("subscription: %w", err)
	}
	subscribed := make(chan struct{}, 1)
	failed := make(chan error, 1)
	sub.OnSubscribed(func(centrifuge.SubscribedEvent) {
		select {
		case subscribed <- struct{}{}:
		default:
		}
	})
	sub.OnError(func(e centrifuge.SubscriptionErrorEvent) {
		select {
		case failed <- e.Error:
		default:
		}
	})
	sub.OnPublication(func(e centrifuge.PublicationEvent) {
		if len(e.Data) < 16 || binary.LittleEndian.Uint64(e.Data) == cl.id {
			return
		}
		rec.Heard(int64(binary.LittleEndian.Uint64(e.Data[8:])))
	})
	cl.sub = sub
	if err := c.Connect(); err != nil {
		c.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := sub.Subscribe(); err != nil {
		c.Close()
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	select {
	case <-subscribed:
		return cl, nil
	case err := <-failed:
		c.Close()
		return nil, fmt.Errorf("subscribe: %w", err)
	case <-ctx.Done():
		c.Close()
		return nil, fmt.Errorf("subscribe: %w", ctx.Err())
	}
}

type client struct {
	c   *centrifuge.Client
	sub *centrifuge.Subscription
	id  uint64
	buf []byte
}

// Play implements loadgen.Client.
func (c *client) Play(ctx context.Context, stamp int64, n int) error {
	c.buf = binary.LittleEndian.AppendUint64(c.buf[:0], c.id)
	c.buf = binary.LittleEndian.AppendUint64(c.buf, uint64(stamp))
	for i := range n {
		c.buf = append(c.buf, byte(i%2), byte(60+i%12), 90, byte(i))
	}
	// The library keeps the slice until it is written.
	_, err := c.sub.Publish(ctx, append([]byte(nil), c.buf...))
	return err
}

// Close implements loadgen.Client.
func (c *client) Close() error {
	c.c.Close()
	return nil
}
