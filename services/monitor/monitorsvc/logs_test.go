package monitorsvc_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
)

func TestLogSink(t *testing.T) {
	e := start(t, monitorsvc.Config{RecentLogs: 4}, monitorsvc.Deps{})
	var out bytes.Buffer
	inner := slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})
	log := slog.New(e.svc.LogHandler(inner)).With("component", "room")

	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	traced := trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))

	log.Debug("not kept anywhere")
	log.Info("joined", "room", "lobby")
	log.WarnContext(traced, "slow client", "user", "u1")
	log.WithGroup("db").Error("write failed", "attempt", 3)

	if s := out.String(); !strings.Contains(s, "joined") || !strings.Contains(s, "slow client") ||
		!strings.Contains(s, "write failed") || strings.Contains(s, "not kept") {
		t.Fatalf("inner handler output changed:\n%s", s)
	}

	recent := func(t *testing.T, level string, limit int32) []*pb.LogEntry {
		t.Helper()
		resp, err := e.client.RecentLogs(ctxT(t), &pb.RecentLogsRequest{Level: level, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetEntries()
	}
	messages := func(es []*pb.LogEntry) string {
		var ms []string
		for _, e := range es {
			ms = append(ms, e.GetMessage())
		}
		return strings.Join(ms, ",")
	}

	all := recent(t, "", 0)
	if got := messages(all); got != "write failed,slow client" {
		t.Fatalf("kept %q, want only WARN and ERROR, newest first", got)
	}
	w, er := all[1], all[0]
	if w.GetLevel() != "WARN" || w.GetService() != "room" || w.GetTraceId() != tid.String() ||
		w.GetAttributes()["user"] != "u1" || w.GetAt() == nil {
		t.Fatalf("warn entry %v", w)
	}
	if er.GetLevel() != "ERROR" || er.GetAttributes()["db.attempt"] != "3" || er.GetTraceId() != "" {
		t.Fatalf("error entry %v", er)
	}

	for _, tt := range []struct {
		level string
		limit int32
		want  string
	}{
		{"ERROR", 0, "write failed"},
		{"warn", 0, "slow client"},
		{"", 1, "write failed"},
	} {
		t.Run(tt.level+"/limit", func(t *testing.T) {
			if got := messages(recent(t, tt.level, tt.limit)); got != tt.want {
				t.Fatalf("RecentLogs(%q, %d) = %q, want %q", tt.level, tt.limit, got, tt.want)
			}
		})
	}

	t.Run("bounded", func(t *testing.T) {
		for _, m := range []string{"w1", "w2", "w3"} {
			log.Warn(m)
		}
		if got := messages(recent(t, "", 0)); got != "w3,w2,w1,write failed" {
			t.Fatalf("ring of 4 kept %q", got)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for _, r := range []*pb.RecentLogsRequest{{Level: "INFO"}, {Limit: -1}} {
			if _, err := e.client.RecentLogs(ctxT(t), r); status.Code(err) != codes.InvalidArgument {
				t.Fatalf("RecentLogs(%v): %v", r, err)
			}
		}
	})
}
