package mpptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A stand-in server on loopback: it answers the client's first frame with
// a two-message frame, then a binary frame.
func TestClientReadsFramesAsMessages(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		got <- string(data)
		ws.Write(ctx, websocket.MessageText, []byte(`[{"m":"b","code":"~return null"},{"m":"hi","t":5,"u":{"_id":"u1","name":"Ann","color":"#ff8ff9"}}]`))
		ws.Write(ctx, websocket.MessageBinary, []byte{1, 2})
		ws.Read(ctx) // until the client closes
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(ctx, Hi{Token: "tok"}, Join{ID: "lobby"}); err != nil {
		t.Fatal(err)
	}
	if sent := <-got; sent != `[{"m":"hi","token":"tok"},{"_id":"lobby","m":"ch"}]` {
		t.Fatalf("sent %s", sent)
	}
	var hi Hello
	if _, err := c.Expect(ctx, "hi", &hi); err != nil {
		t.Fatal(err)
	}
	if hi.U.UserID != "u1" || hi.U.Name != "Ann" || hi.T != 5 {
		t.Fatalf("hi %+v", hi)
	}
	if _, err := c.Next(ctx); err == nil || !strings.Contains(err.Error(), "binary") {
		t.Fatalf("a binary frame from an MPP server is an error, got %v", err)
	}
}

func TestParseRejectsWhatIsNotMPP(t *testing.T) {
	for _, frame := range []string{`{"m":"hi"}`, `[{"x":1}]`, `[{"m":3}]`, `[1]`, `nope`} {
		if _, err := Parse([]byte(frame)); err == nil {
			t.Errorf("parsed %s", frame)
		}
	}
}

func TestKeys(t *testing.T) {
	k := Keys()
	if len(k) != 88 || k[0] != "a-1" || k[3] != "c0" || k[39] != "c3" || k[87] != "c7" {
		t.Fatalf("keys %v", k)
	}
}
