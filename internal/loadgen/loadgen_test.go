package loadgen_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pianorhythm/server/internal/allinone"
	"github.com/pianorhythm/server/internal/loadgen"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

// TestSmokeAgainstAllInOne: the generator, against the real all-in-one,
// joins every client, and every batch one member plays reaches every other
// member; the server's /proc figures are read (this process is the
// server). Not a benchmark: a short run that keeps `make test` fast.
func TestSmokeAgainstAllInOne(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	any := "127.0.0.1:0"
	unique := strconv.FormatInt(time.Now().UnixNano(), 36)
	sys, err := allinone.Start(ctx, allinone.Config{
		HTTPAddr: any, StateAddr: any, UserAddr: any, RoomAddr: any,
		ConnectionAddr: any, AnalyticsAddr: any, MonitorAddr: any,
		RedisURL: os.Getenv("REDIS_URL"), MongoURI: os.Getenv("MONGODB_URI"),
		Database: "loadgen_test_" + unique, DataDir: t.TempDir(), KeyPrefix: storetest.Prefix(t) + "loadgen:",
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sys.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	url := "ws" + strings.TrimPrefix(sys.URL(), "http") + "ws"
	for _, json := range []bool{false, true} {
		t.Run(map[bool]string{false: "proto", true: "json"}[json], func(t *testing.T) {
			res, err := loadgen.Run(ctx, loadgen.Config{
				Dialer:  &loadgen.WSDialer{URL: url, JSON: json, Create: true},
				Clients: 4, Rooms: 1, Players: 1, Rate: 20, Duration: time.Second,
				RoomPrefix: "smoke-" + strconv.FormatBool(json) + "-", ServerPID: os.Getpid(), IdleSample: -1,
				Settle: 3 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Connected != 4 || res.ConnectErrors != 0 {
				t.Fatalf("connected %d, errors %d (%s)", res.Connected, res.ConnectErrors, res.FirstConnectError)
			}
			if res.Batches == 0 || res.Expected != 3*res.Batches || res.Deliveries != res.Expected || res.Lost != 0 {
				t.Fatalf("batches %d, expected %d, delivered %d, lost %d", res.Batches, res.Expected, res.Deliveries, res.Lost)
			}
			if res.ServerRSSAfterSetupMiB <= 0 || res.P50Ms <= 0 {
				t.Fatalf("no server figures or latencies: %+v", res)
			}
			// The CPU to quiet counts everything since the first dial.
			if res.SettleSeconds < 1 || res.ServerCPUToQuietSeconds < res.ServerSetupCPUSeconds+res.ServerPlayCPUSeconds {
				t.Fatalf("settle %.1f s, CPU to quiet %.3f s, setup %.3f s, playing %.3f s",
					res.SettleSeconds, res.ServerCPUToQuietSeconds, res.ServerSetupCPUSeconds, res.ServerPlayCPUSeconds)
			}
		})
	}
}
