package mpptest

import (
	"context"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
)

// Client is a minimal MPP client over a real WebSocket: it sends frames
// built by Frame and hands back the server's messages one at a time. It is
// for tests: one goroutine at a time may use it.
type Client struct {
	ws      *websocket.Conn
	pending []Received
}

// Dial connects to url (ws://host/mpp...) with header (may be nil).
func Dial(ctx context.Context, url string, header http.Header) (*Client, *http.Response, error) {
	ws, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		return nil, res, fmt.Errorf("mpptest: dial %s: %w", url, err)
	}
	ws.SetReadLimit(1 << 20)
	return &Client{ws: ws}, res, nil
}

// Send writes msgs as one text frame.
func (c *Client) Send(ctx context.Context, msgs ...Message) error {
	return c.SendRaw(ctx, websocket.MessageText, Frame(msgs...))
}

// SendRaw writes any frame, for the tests of bad input.
func (c *Client) SendRaw(ctx context.Context, typ websocket.MessageType, data []byte) error {
	if err := c.ws.Write(ctx, typ, data); err != nil {
		return fmt.Errorf("mpptest: write: %w", err)
	}
	return nil
}

// Next returns the next message from the server, reading a frame when
// none is pending. A binary frame or one that is not an array of messages
// is an error: MPP servers send text arrays only.
func (c *Client) Next(ctx context.Context) (Received, error) {
	for len(c.pending) == 0 {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			return Received{}, fmt.Errorf("mpptest: read: %w", err)
		}
		if typ != websocket.MessageText {
			return Received{}, fmt.Errorf("mpptest: binary frame from the server (%v)", typ)
		}
		msgs, err := Parse(data)
		if err != nil {
			return Received{}, err
		}
		c.pending = msgs
	}
	r := c.pending[0]
	c.pending = c.pending[1:]
	return r, nil
}

// Expect returns the next message named m, skipping others, and decodes
// it into v when v is not nil.
func (c *Client) Expect(ctx context.Context, m string, v any) (Received, error) {
	for {
		r, err := c.Next(ctx)
		if err != nil {
			return Received{}, fmt.Errorf("mpptest: waiting for %q: %w", m, err)
		}
		if r.M != m {
			continue
		}
		if v != nil {
			if err := r.Decode(v); err != nil {
				return r, err
			}
		}
		return r, nil
	}
}

// Close closes the socket normally.
func (c *Client) Close() error { return c.ws.Close(websocket.StatusNormalClosure, "") }

// Conn is the underlying socket (close codes, raw reads).
func (c *Client) Conn() *websocket.Conn { return c.ws }
