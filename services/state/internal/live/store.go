package live

import (
	"github.com/redis/go-redis/v9"

	"github.com/pianorhythm/server/services/state/internal/keys"
	"google.golang.org/protobuf/proto"
)

// Store reads and writes the live state. It holds no state of its own
// besides the client, so any number of Stores (in any number of replicas)
// may share one Redis.
type Store struct {
	rdb  redis.UniversalClient
	k    keys.Keys
	chat int
}

// New returns a Store over rdb whose keys start with prefix, keeping the
// last chatHistory messages per room.
func New(rdb redis.UniversalClient, prefix string, chatHistory int) *Store {
	return &Store{rdb: rdb, k: keys.Keys{Prefix: prefix}, chat: chatHistory}
}

// Keys returns the key namer the Store uses.
func (s *Store) Keys() keys.Keys { return s.k }

// marshal never fails for the generated messages we store; a failure would
// be a programming error, so it panics (caught by the shard's supervisor).
func marshal(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic("marshal " + string(m.ProtoReflect().Descriptor().FullName()) + ": " + err.Error())
	}
	return b
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
