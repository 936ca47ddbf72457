package connsvc

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/pianorhythm/server/services/connection/internal/clientip"
	"github.com/pianorhythm/server/services/connection/internal/mpp"
)

// Config configures the edge. Every zero value has a documented default.
type Config struct {
	// InstanceID names this edge instance in presence and on Redis. Zero
	// value means a random id.
	InstanceID string
	// KeyPrefix prefixes every Redis channel, as in the state service.
	// Zero value means "pr:".
	KeyPrefix string
	// PingInterval is how often each socket is pinged. Zero means 20s.
	PingInterval time.Duration
	// IdleTimeout closes a socket silent for this long (4004). Zero means
	// 30s; it must exceed PingInterval.
	IdleTimeout time.Duration
	// SendQueueBytes bounds each connection's send queue. Zero means 1 MiB.
	SendQueueBytes int
	// SlowTimeout closes a client whose send queue stays full this long
	// (4003). Zero means 1s.
	SlowTimeout time.Duration
	// MaxFrameBytes is the largest client frame; larger ones close with
	// 1009. Zero means 64 KiB.
	MaxFrameBytes int
	// QuotaRefill is the note quota refill interval. Zero means 2s.
	QuotaRefill time.Duration
	// JoinsPerSecond is the join rate per connection. Zero means 8.
	JoinsPerSecond int
	// CallTimeout bounds each call to another service. Zero means 5s.
	CallTimeout time.Duration
	// MaxArriving is how many new connections are signed in (a guest made,
	// or a token's profile read) at once; the others wait their turn, so a
	// crowd arriving together is let in at the pace the services answer
	// instead of overrunning their deadlines; as many closed connections
	// are signed out (leave, go offline) at once. Zero means 32.
	MaxArriving int
	// ArrivalWait is how long a new connection waits for its turn before
	// it is refused (503 with Retry-After on /ws). Zero means 60s.
	ArrivalWait time.Duration
	// HeartbeatTTL is the TTL of the instance heartbeat; it is refreshed
	// every third of it. Zero means 30s.
	HeartbeatTTL time.Duration
	// GhostInterval is how often the GhostTracker sweeps. Zero means 5s,
	// so users of a dead instance leave within HeartbeatTTL + 5s.
	GhostInterval time.Duration
	// ReadyTimeout bounds the /readyz health probes. Zero means 2s.
	ReadyTimeout time.Duration
	// OriginPatterns are extra origins allowed to open /ws cross-origin
	// (host patterns, see websocket.AcceptOptions). Zero value: same origin
	// only.
	OriginPatterns []string
	// TrustedProxies are the proxies (CIDRs or single IPs) whose
	// X-Forwarded-For is believed: the client address of a request (for
	// the per-IP limits of the REST API and of WebSocket connections) is
	// taken from that header only when the socket's peer is one of them.
	// Zero value: none, the socket's peer is always the client.
	TrustedProxies []string
	// RedisCheckInterval is how often Redis is pinged, so that what needs
	// it is refused at once while it is down and the subscriptions and
	// registration are restored when it is back. Zero value means 500ms.
	RedisCheckInterval time.Duration
	// CursorsPerSecond and CursorBurst limit the cursor positions a
	// connection relays (on /ws and /mpp alike); over them they are
	// dropped silently. Zero values mean 20 per second (what Multiplayer
	// Piano's browser client sends at most) and a burst of 10.
	CursorsPerSecond float64
	CursorBurst      int
	// RoomListInterval is how often the room list is read while a
	// connection watches it (watchRooms, MPP's +ls); one read per
	// instance whoever watches. Zero value means 2s.
	RoomListInterval time.Duration
	// MPPMOTD is the message of the day in /mpp's answer to hi. Zero
	// value means a welcome naming the server.
	MPPMOTD string
}

func (c Config) withDefaults() Config {
	if c.InstanceID == "" {
		var b [6]byte
		rand.Read(b[:])
		c.InstanceID = "edge-" + hex.EncodeToString(b[:])
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = "pr:"
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.PingInterval, 20*time.Second)
	def(&c.IdleTimeout, 30*time.Second)
	def(&c.SlowTimeout, time.Second)
	def(&c.QuotaRefill, 2*time.Second)
	def(&c.CallTimeout, 5*time.Second)
	def(&c.ArrivalWait, time.Minute)
	def(&c.HeartbeatTTL, 30*time.Second)
	def(&c.GhostInterval, 5*time.Second)
	def(&c.ReadyTimeout, 2*time.Second)
	def(&c.RedisCheckInterval, 500*time.Millisecond)
	def(&c.RoomListInterval, 2*time.Second)
	if c.CursorsPerSecond == 0 {
		c.CursorsPerSecond = 20
	}
	if c.CursorBurst == 0 {
		c.CursorBurst = 10
	}
	if c.MPPMOTD == "" {
		c.MPPMOTD = mpp.DefaultMOTD
	}
	if c.SendQueueBytes == 0 {
		c.SendQueueBytes = 1 << 20
	}
	if c.MaxFrameBytes == 0 {
		c.MaxFrameBytes = 64 << 10
	}
	if c.JoinsPerSecond == 0 {
		c.JoinsPerSecond = 8
	}
	if c.MaxArriving == 0 {
		c.MaxArriving = 32
	}
	return c
}

// Validate reports a configuration the edge cannot run with (after
// defaults).
func (c Config) Validate() error {
	var errs []error
	for name, d := range map[string]time.Duration{
		"ping interval": c.PingInterval, "idle timeout": c.IdleTimeout, "slow timeout": c.SlowTimeout,
		"quota refill": c.QuotaRefill, "call timeout": c.CallTimeout, "heartbeat ttl": c.HeartbeatTTL,
		"ghost interval": c.GhostInterval, "ready timeout": c.ReadyTimeout, "redis check interval": c.RedisCheckInterval,
		"room list interval": c.RoomListInterval, "arrival wait": c.ArrivalWait,
	} {
		if d < 0 {
			errs = append(errs, errors.New(name+" must not be negative"))
		}
	}
	if c.IdleTimeout <= c.PingInterval {
		errs = append(errs, errors.New("idle timeout must exceed the ping interval"))
	}
	if c.SendQueueBytes < 0 || c.MaxFrameBytes < 0 || c.JoinsPerSecond < 0 || c.CursorsPerSecond < 0 || c.CursorBurst < 0 || c.MaxArriving < 0 {
		errs = append(errs, errors.New("sizes and rates must not be negative"))
	}
	if _, err := clientip.Parse(c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
