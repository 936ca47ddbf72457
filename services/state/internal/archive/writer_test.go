package archive

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/pianorhythm/server/pkg/logtest"
)

type counter struct {
	noop.Int64Counter
	n int64
}

func (c *counter) Add(_ context.Context, v int64, _ ...metric.AddOption) { c.n += v }

// TestBoundCountsEveryDropAndLogsOncePerPeriod: while MongoDB is down the
// pending writes are bounded; the operator's metric counts every write
// dropped, documents and chat alike, and the log says how many once per
// period, not once per write queued.
func TestBoundCountsEveryDropAndLogsOncePerPeriod(t *testing.T) {
	var logs logtest.Buffer
	dropped := &counter{}
	now := time.Unix(1000, 0)
	w := NewWriter(WriterConfig{
		MaxPending: 3, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Dropped: dropped,
		Now: func() time.Time { return now },
	})().(*writer)
	chat := func(id string) docOp { return docOp{insert: id} }

	// Two documents and five chat lines over a limit of three: both
	// documents go, then the two oldest lines.
	w.buf.docs = []docOp{{key: "guest-1"}, {key: "guest-2"}}
	w.buf.chat = []docOp{chat("c1"), chat("c2"), chat("c3"), chat("c4"), chat("c5")}
	w.bound()
	if dropped.n != 4 {
		t.Fatalf("counted %d writes dropped, want 4", dropped.n)
	}
	if len(w.buf.docs) != 0 || len(w.buf.chat) != 3 || w.buf.chat[0].insert != "c3" {
		t.Fatalf("kept docs %v, chat %v: want the three newest lines", w.buf.docs, w.buf.chat)
	}

	// The outage goes on: each line queued drops the oldest one.
	for i := range 100 {
		if i == 50 {
			now = now.Add(dropLogPeriod)
		}
		w.buf.chat = append(w.buf.chat, chat("more"))
		w.bound()
	}
	if dropped.n != 104 || w.pendingCount() != 3 {
		t.Fatalf("counted %d dropped with %d pending, want 104 and 3", dropped.n, w.pendingCount())
	}
	lines := logs.Lines()
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2 (one per period):\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if !strings.Contains(lines[0], "dropped=4") || !strings.Contains(lines[1], "dropped=51") {
		t.Fatalf("log lines do not carry the counts:\n%s", strings.Join(lines, "\n"))
	}
}
