package telemetry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// exportTimeout bounds one upload of spans to the collector.
const exportTimeout = 10 * time.Second

// otlpTarget is a parsed OTLP/gRPC endpoint.
type otlpTarget struct {
	addr   string // host:port
	secure bool
}

// parseOTLPEndpoint accepts "host:port" (no TLS: collectors run beside the
// services), "http://host:port" (no TLS) and "https://host:port" (TLS); a
// URL without a port gets 4317, the OTLP/gRPC port. A path is ignored:
// gRPC has none.
func parseOTLPEndpoint(endpoint string) (otlpTarget, error) {
	e := strings.TrimSpace(endpoint)
	if !strings.Contains(e, "://") {
		if _, _, err := net.SplitHostPort(e); err != nil {
			return otlpTarget{}, fmt.Errorf("otlp endpoint %q: want host:port or a URL", endpoint)
		}
		return otlpTarget{addr: e}, nil
	}
	u, err := url.Parse(e)
	if err != nil || u.Host == "" {
		return otlpTarget{}, fmt.Errorf("otlp endpoint %q: want host:port or a URL", endpoint)
	}
	t := otlpTarget{addr: u.Host}
	switch u.Scheme {
	case "http", "grpc":
	case "https", "grpcs":
		t.secure = true
	default:
		return otlpTarget{}, fmt.Errorf("otlp endpoint %q: scheme %q is not http or https", endpoint, u.Scheme)
	}
	if u.Port() == "" {
		t.addr = net.JoinHostPort(u.Hostname(), "4317")
	}
	return t, nil
}

// otlpHeaders reads OTEL_EXPORTER_OTLP_TRACES_HEADERS, else
// OTEL_EXPORTER_OTLP_HEADERS ("key=value,key2=value2", values URL-encoded),
// as the OTLP exporters do.
func otlpHeaders() (metadata.MD, error) {
	raw := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
	if raw == "" {
		raw = os.Getenv("OTEL_EXPORTER_OTLP_HEADERS")
	}
	md := metadata.MD{}
	for _, kv := range strings.Split(raw, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, errors.New("OTEL_EXPORTER_OTLP_HEADERS: want key=value pairs separated by commas")
		}
		val, err := url.QueryUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_HEADERS: %w", err)
		}
		md.Append(strings.ToLower(strings.TrimSpace(k)), val)
	}
	return md, nil
}

// newOTLPExporter returns a span exporter for the collector at endpoint.
//
// Its client is ours, not otlptracegrpc's: that one parses
// OTEL_EXPORTER_OTLP_ENDPOINT itself as a URL on every start, whatever it
// is given, and prints a parse error for a bare "127.0.0.1:4317".
func newOTLPExporter(ctx context.Context, endpoint string) (*otlptrace.Exporter, error) {
	t, err := parseOTLPEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	md, err := otlpHeaders()
	if err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	if t.secure {
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	return otlptrace.New(ctx, &otlpClient{target: t.addr, creds: creds, headers: md})
}

// otlpClient uploads spans with the OTLP/gRPC TraceService. The exporter
// calls Start once, then UploadTraces, and Stop once.
type otlpClient struct {
	target  string
	creds   credentials.TransportCredentials
	headers metadata.MD

	mu     sync.Mutex
	conn   *grpc.ClientConn
	client coltracepb.TraceServiceClient
}

var _ otlptrace.Client = (*otlpClient)(nil)

func (c *otlpClient) Start(context.Context) error {
	conn, err := grpc.NewClient(c.target, grpc.WithTransportCredentials(c.creds))
	if err != nil {
		return fmt.Errorf("otlp collector at %s: %w", c.target, err)
	}
	c.mu.Lock()
	c.conn, c.client = conn, coltracepb.NewTraceServiceClient(conn)
	c.mu.Unlock()
	return nil
}

func (c *otlpClient) Stop(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn, c.client = nil, nil
	return err
}

func (c *otlpClient) UploadTraces(ctx context.Context, spans []*tracepb.ResourceSpans) error {
	c.mu.Lock()
	client := c.client
	c.mu.Unlock()
	if client == nil {
		return errors.New("otlp client stopped")
	}
	ctx, cancel := context.WithTimeout(ctx, exportTimeout)
	defer cancel()
	if len(c.headers) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, c.headers)
	}
	if _, err := client.Export(ctx, &coltracepb.ExportTraceServiceRequest{ResourceSpans: spans}); err != nil {
		return fmt.Errorf("export spans to %s: %w", c.target, err)
	}
	return nil
}
