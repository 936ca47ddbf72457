package ledger

import (
	"context"
	"fmt"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

// BenchmarkApply100 is one batch of 100 events over 10 users (the
// analytics service's default batch), applied once per id: the cost a
// tracker pays per batch on the test MongoDB (embedded FerretDB unless
// MONGODB_URI is set).
func BenchmarkApply100(b *testing.B) {
	ctx := context.Background()
	db := storetest.Mongo(b)
	l := New(Config{DB: db, Tracker: "bench", Plan: countPlan, StaleAfter: time.Minute, SeenTTL: time.Hour})
	if err := l.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		evs := make([]*pb.Event, 100)
		for j := range evs {
			evs[j] = notes(fmt.Sprintf("b%d-%d", i, j), fmt.Sprint("u", j%10), 1)
		}
		if n, err := l.Apply(ctx, evs); err != nil || n != 100 {
			b.Fatalf("applied %d: %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*100), "µs/event")
}
