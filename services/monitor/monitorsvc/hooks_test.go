package monitorsvc_test

import (
	"log/slog"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
)

func TestHooksBindLate(t *testing.T) {
	var hooks monitorsvc.Hooks
	log := slog.New(hooks.LogHandler(slog.DiscardHandler)).With("service", "edge")
	onPanic := hooks.PanicReporter("edge")

	// Before the monitor exists the hooks do nothing, and do not fail.
	log.Error("early")
	onPanic("conn", "early", nil)

	e := start(t, monitorsvc.Config{}, monitorsvc.Deps{})
	hooks.Attach(e.svc)
	log.Error("late")
	onPanic("conn", "late", []byte("goroutine 1 [running]:\nmain.f()\n"))
	if err := e.svc.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}

	logs, err := e.client.RecentLogs(ctxT(t), &pb.RecentLogsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if es := logs.GetEntries(); len(es) != 1 || es[0].GetMessage() != "late" || es[0].GetService() != "edge" {
		t.Fatalf("logs %v, want only the one after Attach", es)
	}
	if gs := groups(t, e); len(gs) != 1 || gs[0].GetMessage() != "panic in conn: late" || gs[0].GetService() != "edge" {
		t.Fatalf("groups %v, want only the panic after Attach", gs)
	}
}
