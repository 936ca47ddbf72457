package edge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
)

// The WebSocket library writes each message with its own flush, so a
// writer that drained ten frames made ten write syscalls. A corkConn under
// the library holds those flushes while the connection's writer is
// writing a drained batch and sends them with one syscall at the end
// (uncork), the coalescing DESIGN asks of the writer without changing what
// a frame holds (clients still get one message per frame).

// corkMax bounds the bytes held while corked; past it, what is held goes
// out at once. corkKeep is the largest buffer put back in the pool.
const (
	corkMax  = 64 << 10
	corkKeep = 16 << 10
)

// corkBufs are the buffers of corked batches, taken at the first held
// write and put back when it is sent: an idle connection holds none (it
// kept up to 4 KiB, a twentieth of an idle connection).
var corkBufs = sync.Pool{New: func() any { return new([]byte) }}

// corkConn is the hijacked connection as the WebSocket library sees it.
// Safe for concurrent use (the library's writes are serialized by its own
// lock; cork and uncork come from the connection's writer).
type corkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    *[]byte // held writes, from corkBufs; nil when none
	err    error   // the first failed write while corked
}

// Write sends p, or holds it while corked.
func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if c.corked {
		if c.buf == nil {
			c.buf = corkBufs.Get().(*[]byte)
		}
		if len(*c.buf)+len(p) <= corkMax {
			*c.buf = append(*c.buf, p...)
			return len(p), nil
		}
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return c.Conn.Write(p)
}

// cork holds writes until uncork.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork sends what was held, in one write, and lets later writes through.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if c.err != nil {
		return c.err
	}
	return c.flushLocked()
}

func (c *corkConn) flushLocked() error {
	if c.buf == nil {
		return nil
	}
	var err error
	if len(*c.buf) > 0 {
		_, err = c.Conn.Write(*c.buf)
	}
	if cap(*c.buf) <= corkKeep {
		*c.buf = (*c.buf)[:0]
		corkBufs.Put(c.buf)
	}
	c.buf = nil
	if err != nil {
		c.err = err
	}
	return err
}

// corkWriter is the http.ResponseWriter handed to websocket.Accept: its
// Hijack puts a corkConn under the library's buffered writer. conn is set
// once Accept has hijacked.
type corkWriter struct {
	http.ResponseWriter
	conn *corkConn
}

var _ http.Hijacker = (*corkWriter)(nil)

func (w *corkWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		_ = nc.Close()
		return nil, nil, errors.Join(errors.New("flush before hijack"), err)
	}
	w.conn = &corkConn{Conn: nc}
	// The library keeps the hijacked buffers for the connection's life,
	// and net/http's are 4 KiB each, a sixth of an idle connection; small
	// ones serve as well: the writer always writes corked (writeBatch), so
	// a frame leaves in one syscall whatever the write buffer's size, and
	// a note batch or chat line fits the read buffer. What the client sent
	// behind its handshake is in net/http's buffer already; it is moved
	// into the new one (the library keeps only what is buffered when it
	// takes the reader).
	early, _ := brw.Reader.Peek(brw.Reader.Buffered())
	r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), nc), max(hijackReadBuf, len(early)))
	if _, err := r.Peek(len(early)); err != nil {
		_ = nc.Close()
		return nil, nil, fmt.Errorf("keep what came with the handshake: %w", err)
	}
	return w.conn, bufio.NewReadWriter(r, bufio.NewWriterSize(w.conn, hijackWriteBuf)), nil
}

// The sizes of a WebSocket connection's read and write buffers.
const (
	hijackReadBuf  = 1 << 10
	hijackWriteBuf = 512
)
