package errtrack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/pianorhythm/server/pkg/actor"
)

// Alert is the JSON body POSTed to the webhook when a group spikes. Text
// is a one-line summary, so chat webhooks that only read "text" show it.
type Alert struct {
	Text        string    `json:"text"`
	Fingerprint string    `json:"fingerprint"`
	Service     string    `json:"service"`
	Message     string    `json:"message"`
	Count       int64     `json:"count"`
	InWindow    int       `json:"in_window"`
	Window      string    `json:"window"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	TraceID     string    `json:"trace_id,omitempty"`
}

// Webhook delivers alerts with HTTP POST from its own actor. Build it with
// NewWebhook and hand it to Config.Webhook.
type Webhook struct {
	url     string
	client  *http.Client
	timeout time.Duration
	log     *slog.Logger
	ref     *actor.Ref
	dropped atomic.Int64
}

// NewWebhook returns a webhook posting to url with client (nil means
// http.DefaultClient), each attempt bounded by timeout (zero means 5s).
func NewWebhook(url string, client *http.Client, timeout time.Duration, log *slog.Logger) *Webhook {
	if client == nil {
		client = http.DefaultClient
	}
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	return &Webhook{url: url, client: client, timeout: timeout, log: log}
}

func (w *Webhook) spawn(sys *actor.System) error {
	if w.url == "" {
		return errors.New("errtrack: webhook without a URL")
	}
	ref, err := sys.Spawn(actor.Props{
		Kind: "error-webhook", Name: "error-webhook",
		New:         func() actor.Actor { return webhookActor{w} },
		MailboxSize: 100,
		// Alerts beyond a backlog of 100 are a storm the first ones
		// already announced; the tracker must never wait for them.
		Overflow:   actor.FailFast,
		MaxRetries: -1,
	})
	if err != nil {
		return fmt.Errorf("spawn error webhook: %w", err)
	}
	w.ref = ref
	return nil
}

func (w *Webhook) send(ctx context.Context, a Alert) {
	a.Text = fmt.Sprintf("[%s] error spike: %q, %d in %s (%d total)", a.Service, a.Message, a.InWindow, a.Window, a.Count)
	if err := w.ref.Tell(ctx, a); err != nil {
		w.dropped.Add(1)
	}
}

type flushQuery struct{}

func (w *Webhook) flush(ctx context.Context) error {
	if _, err := w.ref.Ask(ctx, flushQuery{}); err != nil {
		return fmt.Errorf("flush webhook: %w", err)
	}
	return nil
}

type webhookActor struct{ w *Webhook }

func (a webhookActor) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case Alert:
		if err := a.w.post(c.Context(), m); err != nil {
			a.w.log.WarnContext(c.Context(), "error alert webhook failed", "fingerprint", m.Fingerprint, "error", err)
		}
	case flushQuery:
		c.Respond(struct{}{})
	}
}

func (w *Webhook) post(ctx context.Context, a Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build alert request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("post alert: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("post alert: status %s", resp.Status)
	}
	return nil
}
