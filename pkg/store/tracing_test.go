package store_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

// TestCommandsAreSpansOfTheRequest: a Redis command, a Redis pipeline and
// a MongoDB write made for a request are child spans of the request's
// span; commands outside any trace record nothing.
func TestCommandsAreSpansOfTheRequest(t *testing.T) {
	ctx := testCtx(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	r, err := store.OpenRedis(ctx, store.RedisConfig{URL: os.Getenv("REDIS_URL"), TracerProvider: tp})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	m, err := store.OpenMongo(ctx, store.MongoConfig{URI: os.Getenv("MONGODB_URI"), DataDir: t.TempDir(), Database: "tracing_" + strings.ReplaceAll(strings.Trim(storetest.Prefix(t), ":"), ":", "_"), TracerProvider: tp})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = m.DB.Drop(context.Background())
		_ = m.Close(context.Background())
	})
	key := storetest.Prefix(t) + "k"

	// Outside a trace: nothing recorded (background loops stay quiet).
	require.NoError(t, r.Client.Set(ctx, key, "0", 0).Err())
	_, err = m.DB.Collection("c").InsertOne(ctx, bson.M{"x": 0})
	require.NoError(t, err)
	require.Empty(t, rec.Ended(), "no span without a parent")

	reqCtx, req := tp.Tracer("test").Start(ctx, "request")
	require.NoError(t, r.Client.Set(reqCtx, key, "v", 0).Err())
	pipe := r.Client.Pipeline()
	pipe.Get(reqCtx, key)
	pipe.Incr(reqCtx, key+":n")
	_, err = pipe.Exec(reqCtx)
	require.NoError(t, err)
	_, err = m.DB.Collection("archive").InsertOne(reqCtx, bson.M{"text": "hi"})
	require.NoError(t, err)
	err = m.DB.RunCommand(reqCtx, bson.D{{Key: "noSuchCommand", Value: 1}}).Err()
	require.Error(t, err)
	req.End()

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		byName[s.Name()] = s
	}
	parent := byName["request"].SpanContext()
	for _, name := range []string{"set", "redis.pipeline get incr", "insert archive", "noSuchCommand"} {
		s, ok := byName[name]
		require.True(t, ok, "span %q among %v", name, names(rec.Ended()))
		require.Equal(t, parent.TraceID(), s.SpanContext().TraceID(), name)
		require.Equal(t, parent.SpanID(), s.Parent().SpanID(), "%s is a child of the request", name)
		require.Equal(t, trace.SpanKindClient, s.SpanKind(), name)
	}
	attrs := map[string]string{}
	for _, a := range byName["insert archive"].Attributes() {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	require.Equal(t, "mongodb", attrs["db.system.name"])
	require.Equal(t, "archive", attrs["db.collection.name"])
	require.Equal(t, "insert", attrs["db.operation.name"])
	require.Equal(t, m.DB.Name(), attrs["db.namespace"])
	require.Equal(t, "Error", byName["noSuchCommand"].Status().Code.String(), "a failed command is an error span")
	for _, a := range byName["set"].Attributes() {
		require.NotEqual(t, "db.statement", string(a.Key), "command arguments are not recorded")
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}
