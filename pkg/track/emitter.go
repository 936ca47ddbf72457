package track

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Stream fields of each entry.
const (
	FieldEvent = "event" // the protobuf-marshalled pb.Event
	FieldID    = "id"    // the event's id, for consumers that dedupe without decoding
)

// batchSize is how many queued events one pipeline round trip carries at most.
const batchSize = 128

// Config configures an Emitter.
type Config struct {
	// Stream is the Redis stream written to. Zero value means
	// "analytics:events".
	Stream string
	// Buffer is how many events may wait for Redis before Emit starts
	// dropping them. Zero value means 1024.
	Buffer int
	// MaxLen caps the stream (XADD MAXLEN ~), so an absent consumer cannot
	// fill Redis. Zero value means 100000.
	MaxLen int64
	// WriteTimeout bounds one write to Redis (a batch of up to 128 events).
	// Zero value means 5s.
	WriteTimeout time.Duration
	// Logger receives write failures (once when they start, once when they
	// stop, not per event). Zero value means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Stream == "" {
		c.Stream = "analytics:events"
	}
	if c.Buffer == 0 {
		c.Buffer = 1024
	}
	if c.MaxLen == 0 {
		c.MaxLen = 100000
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports a configuration NewEmitter cannot use.
func (c Config) Validate() error {
	if c.Buffer < 0 || c.MaxLen < 0 || c.WriteTimeout < 0 {
		return errors.New("track: buffer, max length and write timeout must not be negative")
	}
	return nil
}

// Emitter writes events to a Redis stream from one goroutine that it owns.
// Emit is safe for concurrent use and never blocks; Close flushes and
// stops the goroutine.
type Emitter struct {
	client redis.UniversalClient
	cfg    Config

	queue   chan *pb.Event // never closed: Emit may race with Close
	stop    chan struct{}  // closed by Close
	done    chan struct{}  // closed when the goroutine has returned
	flush   context.Context
	dropped atomic.Int64

	mu     sync.RWMutex // Emit holds it shared so Close sees no send in flight
	closed bool

	runCtx    context.Context // cancelled when Close gives up waiting
	cancelRun context.CancelFunc
	failing   bool // only touched by the goroutine
	gaveUp    bool // set by the goroutine before done: events left unwritten at Close
}

// NewEmitter starts an Emitter writing to client. An invalid cfg (negative
// sizes) is replaced by defaults, since analytics must never stop a service
// from starting; use cfg.Validate to reject it instead.
func NewEmitter(client redis.UniversalClient, cfg Config) *Emitter {
	if cfg.Validate() != nil {
		cfg = Config{Stream: cfg.Stream, Logger: cfg.Logger}
	}
	cfg = cfg.withDefaults()
	runCtx, cancel := context.WithCancel(context.Background())
	e := &Emitter{
		client:    client,
		cfg:       cfg,
		queue:     make(chan *pb.Event, cfg.Buffer),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		runCtx:    runCtx,
		cancelRun: cancel,
	}
	go e.run()
	return e
}

// Emit queues ev for the stream and returns at once. It fills ev.Id (a
// UUID) and ev.At (now) when they are empty and, unless ev.Trace already
// carries one, the W3C trace context of ctx. Emit takes ownership of ev:
// the caller must not touch it afterwards. When the queue is full, or the
// Emitter is closed, ev is dropped and counted (see Dropped).
func (e *Emitter) Emit(ctx context.Context, ev *pb.Event) {
	if ev == nil {
		return
	}
	if ev.Id == "" {
		ev.Id = uuid.NewString()
	}
	if ev.At == nil {
		ev.At = timestamppb.Now()
	}
	if ev.Trace["traceparent"] == "" {
		carrier := propagation.MapCarrier{}
		propagation.TraceContext{}.Inject(ctx, carrier)
		if len(carrier) > 0 {
			if ev.Trace == nil {
				ev.Trace = make(map[string]string, len(carrier))
			}
			for k, v := range carrier {
				ev.Trace[k] = v
			}
		}
	}

	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		e.dropped.Add(1)
		return
	}
	select {
	case e.queue <- ev:
	default:
		e.dropped.Add(1)
	}
}

// Dropped returns how many events never reached the stream: dropped
// because the queue was full or the Emitter closed, lost in a failed
// write, or still queued when Close gave up.
func (e *Emitter) Dropped() int64 { return e.dropped.Load() }

// Close stops accepting events, writes what is queued within ctx and
// waits for the goroutine to return. It returns ctx's error if events were
// left unwritten. A write already in flight when ctx ends may run on for up
// to WriteTimeout: go-redis turns only deadlines, not cancellation, into
// socket deadlines. Calling Close again returns nil once the goroutine is
// gone.
func (e *Emitter) Close(ctx context.Context) error {
	e.mu.Lock()
	already := e.closed
	if !already {
		e.closed = true
		e.flush = ctx
		close(e.stop)
	}
	e.mu.Unlock()
	if already {
		<-e.done
		return nil
	}
	aborted := false
	select {
	case <-e.done:
	case <-ctx.Done():
		aborted = true
		// Abort the write in flight (with clients that honour contexts) and
		// still wait: the goroutine must not outlive Close.
		e.cancelRun()
		<-e.done
	}
	e.cancelRun()
	if e.gaveUp || aborted {
		return fmt.Errorf("flush analytics events: %w", context.Cause(ctx))
	}
	return nil
}

func (e *Emitter) run() {
	defer close(e.done)
	batch := make([]*pb.Event, 0, batchSize)
	for {
		select {
		case ev := <-e.queue:
			batch = e.fill(append(batch[:0], ev))
			e.write(e.runCtx, batch)
		case <-e.stop:
			e.drain(batch)
			return
		}
	}
}

// drain writes what is left in the queue after Close, within Close's ctx.
func (e *Emitter) drain(batch []*pb.Event) {
	for len(e.queue) > 0 {
		if e.flush.Err() != nil || e.runCtx.Err() != nil {
			e.gaveUp = true
			e.dropped.Add(int64(len(e.queue)))
			for len(e.queue) > 0 {
				<-e.queue
			}
			return
		}
		batch = e.fill(batch[:0])
		e.write(e.flush, batch)
	}
}

// fill adds queued events to batch without waiting, up to batchSize.
func (e *Emitter) fill(batch []*pb.Event) []*pb.Event {
	for len(batch) < batchSize {
		select {
		case ev := <-e.queue:
			batch = append(batch, ev)
		default:
			return batch
		}
	}
	return batch
}

// write XADDs batch in one pipeline round trip.
func (e *Emitter) write(ctx context.Context, batch []*pb.Event) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.WriteTimeout)
	defer cancel()
	pipe := e.client.Pipeline()
	for _, ev := range batch {
		b, err := proto.Marshal(ev)
		if err != nil { // cannot happen for a valid message; count, don't crash
			e.dropped.Add(1)
			continue
		}
		pipe.XAdd(ctx, &redis.XAddArgs{
			Stream: e.cfg.Stream,
			MaxLen: e.cfg.MaxLen,
			Approx: true,
			Values: []any{FieldEvent, b, FieldID, ev.Id},
		})
	}
	cmds, err := pipe.Exec(ctx)
	failed := 0
	for _, c := range cmds {
		if c.Err() != nil {
			failed++
		}
	}
	if err != nil && failed == 0 { // the pipeline failed as a whole
		failed = len(cmds)
	}
	e.dropped.Add(int64(failed))
	switch {
	case err != nil && !e.failing:
		e.failing = true
		e.cfg.Logger.Warn("analytics events are not reaching redis; dropping them",
			"stream", e.cfg.Stream, "err", err)
	case err == nil && e.failing:
		e.failing = false
		e.cfg.Logger.Info("analytics events reach redis again", "stream", e.cfg.Stream)
	}
}
