package rpc

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// loggingUnary logs every call with its method, code and duration. The
// context carries the otelgrpc span, so a telemetry log handler adds
// trace_id. OK is debug, a refusal (client error) info, a server fault warn.
func loggingUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		logCall(ctx, log, info.FullMethod, err, time.Since(start))
		return resp, err
	}
}

func loggingStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		logCall(ss.Context(), log, info.FullMethod, err, time.Since(start))
		return err
	}
}

func logCall(ctx context.Context, log *slog.Logger, method string, err error, d time.Duration) {
	code := status.Code(err)
	level := slog.LevelDebug
	switch {
	case serverFault(code):
		level = slog.LevelWarn
	case code != codes.OK:
		level = slog.LevelInfo
	}
	if !log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("code", code.String()),
		slog.Duration("duration", d),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", status.Convert(err).Message()))
	}
	log.LogAttrs(ctx, level, "grpc call", attrs...)
}

// recoveryUnary turns a handler panic into codes.Internal so one bad request
// cannot take the process down, logs it with the stack and reports it.
func recoveryUnary(name string, log *slog.Logger, onPanic func(string, string, any, []byte)) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				err = recovered(ctx, name, info.FullMethod, v, log, onPanic)
			}
		}()
		return handler(ctx, req)
	}
}

func recoveryStream(name string, log *slog.Logger, onPanic func(string, string, any, []byte)) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = recovered(ss.Context(), name, info.FullMethod, v, log, onPanic)
			}
		}()
		return handler(srv, ss)
	}
}

func recovered(ctx context.Context, name, method string, v any, log *slog.Logger, onPanic func(string, string, any, []byte)) error {
	stack := debug.Stack()
	log.ErrorContext(ctx, "grpc handler panicked",
		"service", name, "method", method, "panic", fmt.Sprint(v), "stack", string(stack))
	if onPanic != nil {
		onPanic(name, method, v, stack)
	}
	// The panic value stays in the logs: it may hold internals the caller
	// should not see.
	return Refuse(pb.ErrorReason_INTERNAL, "internal error in "+shortMethod(method))
}

// faultsUnary reports handler errors that are the server's own fault. It
// runs inside recovery, so a panic passes through it and is reported once,
// as a panic.
func faultsUnary(name string, onError func(string, string, error)) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if onError != nil && err != nil {
			switch status.Code(err) {
			case codes.Internal, codes.Unknown, codes.DataLoss:
				onError(name, info.FullMethod, err)
			}
		}
		return resp, err
	}
}

// serverFault reports whether code means the server (or the way to it)
// failed, as opposed to refusing a request it understood. Only these count
// against a circuit breaker and log as warnings.
func serverFault(c codes.Code) bool {
	switch c {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Internal, codes.Unknown, codes.DataLoss:
		return true
	}
	return false
}

// shortMethod returns "GetUser" for "/pianorhythm.v1.StateService/GetUser".
func shortMethod(fullMethod string) string {
	if i := strings.LastIndexByte(fullMethod, '/'); i >= 0 {
		return fullMethod[i+1:]
	}
	return fullMethod
}
