package actor

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// Spawner starts actors: *System and *Supervisor.
type Spawner interface {
	Spawn(p Props) (*Ref, error)
}

var (
	_ Spawner = (*System)(nil)
	_ Spawner = (*Supervisor)(nil)
)

// Pool routes messages over n identical actors. It is safe for concurrent
// use; the actors belong to the Spawner that started them.
type Pool struct {
	refs []*Ref
	key  func(msg any) string // nil for round robin
	next atomic.Uint64
}

// NewHashPool starts n actors from p and routes each message by
// consistent hash of key(msg): all messages with one key go to one actor,
// so they are handled in the order they were sent.
func NewHashPool(parent Spawner, p Props, n int, key func(msg any) string) (*Pool, error) {
	if key == nil {
		return nil, errors.New("actor: hash pool: key is required")
	}
	return newPool(parent, p, n, key)
}

// NewRoundRobinPool starts n actors from p and hands messages to them in
// turn.
func NewRoundRobinPool(parent Spawner, p Props, n int) (*Pool, error) {
	return newPool(parent, p, n, nil)
}

func newPool(parent Spawner, p Props, n int, key func(any) string) (*Pool, error) {
	if n < 1 {
		return nil, fmt.Errorf("actor: pool: size %d < 1", n)
	}
	pool := &Pool{refs: make([]*Ref, 0, n), key: key}
	base := p.Name
	if base == "" {
		base = p.Kind
	}
	for i := range n {
		ip := p
		if base != "" {
			ip.Name = fmt.Sprintf("%s-%d", base, i)
		}
		r, err := parent.Spawn(ip)
		if err != nil {
			// Stop the members already started; their parent would keep
			// them otherwise.
			for _, started := range pool.refs {
				started.stopNode(nil)
			}
			return nil, fmt.Errorf("actor: pool member %d: %w", i, err)
		}
		pool.refs = append(pool.refs, r)
	}
	return pool, nil
}

// Route returns the member that receives msg.
func (p *Pool) Route(msg any) *Ref {
	if p.key == nil {
		return p.refs[(p.next.Add(1)-1)%uint64(len(p.refs))]
	}
	return p.refs[KeyIndex(p.key(msg), len(p.refs))]
}

// KeyIndex returns the member of an n-member hash pool that owns key, the
// consistent hash NewHashPool routes by. Code that keeps its own slice of
// actors (to give each its index) routes with it to stay consistent.
func KeyIndex(key string, n int) int {
	return jumpHash(fnv1a(key), n)
}

// Tell sends msg to the member chosen by the pool's routing.
func (p *Pool) Tell(ctx context.Context, msg any) error { return p.Route(msg).Tell(ctx, msg) }

// Ask asks the member chosen by the pool's routing.
func (p *Pool) Ask(ctx context.Context, msg any) (any, error) { return p.Route(msg).Ask(ctx, msg) }

// Refs returns the members, in hash-bucket order.
func (p *Pool) Refs() []*Ref { return append([]*Ref(nil), p.refs...) }

// Stop stops every member and waits for them or for ctx.
func (p *Pool) Stop(ctx context.Context) error {
	for _, r := range p.refs {
		r.stopNode(nil)
	}
	for _, r := range p.refs {
		if err := waitDone(ctx, r.done); err != nil {
			return err
		}
	}
	return nil
}

func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// jumpHash is Lamping and Veach's jump consistent hash: no table, and
// growing the pool moves only 1/n of the keys.
func jumpHash(key uint64, buckets int) int {
	var b, j int64 = -1, 0
	for j < int64(buckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}
