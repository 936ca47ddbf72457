package events

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/analytics/internal/ledger"
)

// CountsCollection holds one document per event type: {_id: type name, n}.
const CountsCollection = "analytics_counts"

// CountsPlan is the counts ledger's plan: one more of each event's type.
func CountsPlan(evs []*pb.Event, _ time.Time) []ledger.Op {
	ops := make([]ledger.Op, 0, len(evs))
	for _, ev := range evs {
		ops = append(ops, ledger.Op{Coll: CountsCollection, ID: TypeName(ev.GetType()), Inc: bson.M{"n": int64(1)}})
	}
	return ops
}

// Counts reads the number of events per type. It is safe for concurrent
// use.
type Counts struct{ coll *mongo.Collection }

// NewCounts returns the counts in db.
func NewCounts(db *mongo.Database) *Counts { return &Counts{coll: db.Collection(CountsCollection)} }

// All returns the counts per type name.
func (c *Counts) All(ctx context.Context) (map[string]int64, error) {
	cur, err := c.coll.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read event counts: %w", err)
	}
	var docs []struct {
		ID string `bson:"_id"`
		N  int64  `bson:"n"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read event counts: %w", err)
	}
	out := make(map[string]int64, len(docs))
	for _, d := range docs {
		if d.N > 0 {
			out[d.ID] = d.N
		}
	}
	return out, nil
}
