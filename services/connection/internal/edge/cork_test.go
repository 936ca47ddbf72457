package edge

import (
	"bytes"
	"net"
	"testing"
)

// writes records each Write the kernel would see.
type writes struct {
	net.Conn
	calls [][]byte
}

func (w *writes) Write(p []byte) (int, error) {
	w.calls = append(w.calls, bytes.Clone(p))
	return len(p), nil
}

// TestCorkSendsABatchInOneWrite: frames written while corked reach the
// socket in one write, in order; uncorked writes go straight through; a
// batch past corkMax is not held back whole; between batches the
// connection holds no buffer.
func TestCorkSendsABatchInOneWrite(t *testing.T) {
	w := &writes{}
	c := &corkConn{Conn: w}
	if _, err := c.Write([]byte("a")); err != nil || len(w.calls) != 1 {
		t.Fatalf("uncorked write: %v, %d calls", err, len(w.calls))
	}
	c.cork()
	for _, f := range []string{"one", "two", "three"} {
		if _, err := c.Write([]byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.calls) != 1 {
		t.Fatalf("%d writes while corked, want none", len(w.calls)-1)
	}
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	if len(w.calls) != 2 || string(w.calls[1]) != "onetwothree" {
		t.Fatalf("writes %q, want the batch in one", w.calls)
	}

	c.cork()
	big := bytes.Repeat([]byte("x"), corkMax)
	_, _ = c.Write([]byte("head"))
	_, _ = c.Write(big)
	_ = c.uncork()
	var got []byte
	for _, call := range w.calls[2:] {
		got = append(got, call...)
	}
	if string(got) != "head"+string(big) {
		t.Fatalf("big batch reordered or lost (%d bytes)", len(got))
	}
	if c.buf != nil {
		t.Fatalf("kept a %d-byte buffer after the batch", cap(*c.buf))
	}
}
