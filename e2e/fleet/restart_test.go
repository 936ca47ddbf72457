package fleet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pianorhythm/server/e2e/fleet"
)

// everyProgramRestarted stops every service program with SIGTERM, as an
// operator restarting the fleet would, and starts them again on the same
// MongoDB and Redis: each comes back (a second start on existing data,
// indexes included, must not fail), an account made before logs in with
// the same password, its refresh token still works, the chat history of
// the rooms is as it was and no analytics figure went back.
func everyProgramRestarted(t *testing.T, f *fleet.Fleet) {
	base := "http://" + f.HTTPAddr("edge-1")
	user, password := "restart-ann", "correct horse battery"
	code, body := restJSON(t, base, "/v1/auth/register", `{"username":"`+user+`","password":"`+password+`"}`)
	if code != http.StatusOK {
		t.Fatalf("register before the restart: %d %s", code, body)
	}
	var auth struct {
		RefreshToken string `json:"refreshToken"`
		User         struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal([]byte(body), &auth); err != nil || auth.RefreshToken == "" {
		t.Fatalf("register answer %s: %v", body, err)
	}
	lobbyBefore := history(t, f, "edge-1", "lobby")
	countsBefore := settledCounts(t, f)

	stopped := time.Now()
	names := f.Names("")
	for i := len(names) - 1; i >= 0; i-- { // edges first, state last
		n := names[i]
		if e, ok := f.Signal(n, syscall.SIGTERM, 15*time.Second); !ok || e.Code != 0 {
			t.Errorf("%s after SIGTERM: %v (exited %v)\n%s", n, e, ok, f.Tail(n, 10))
		}
	}
	started := time.Now()
	for _, n := range names {
		f.Start(n, fleet.StartOptions{})
	}
	var slowest time.Duration
	for _, n := range names {
		f.WaitHealthy(n)
		slowest = max(slowest, time.Since(started))
		if !f.Running(n) {
			t.Errorf("%s exited on its second start:\n%s", n, f.Tail(n, 20))
		}
	}

	code, body = restJSON(t, base, "/v1/auth/login", `{"username":"`+user+`","password":"`+password+`"}`)
	if code != http.StatusOK || !strings.Contains(body, auth.User.ID) {
		t.Errorf("login after the restart: %d %s (want user %s)", code, body, auth.User.ID)
	}
	code, body = restJSON(t, base, "/v1/auth/refresh", `{"refreshToken":"`+auth.RefreshToken+`"}`)
	if code != http.StatusOK {
		t.Errorf("refresh token of before the restart: %d %s", code, body)
	}
	lobbyAfter := history(t, f, "edge-1", "lobby")
	for text := range lobbyBefore {
		if !lobbyAfter[text] {
			t.Errorf("lobby message %q lost in the restart", text)
		}
	}
	countsAfter := settledCounts(t, f)
	for k, v := range countsBefore {
		if countsAfter[k] < v {
			t.Errorf("analytics %s went from %d to %d in the restart", k, v, countsAfter[k])
		}
	}
	t.Logf("figures: %d programs stopped with SIGTERM in %v and started again: all healthy %v after the start; login, refresh token, %d lobby messages and %d analytics counters kept",
		len(names), started.Sub(stopped).Round(time.Millisecond), slowest.Round(time.Millisecond), len(lobbyBefore), len(countsBefore))
}

// restJSON posts body to the edge's REST path and returns the status and
// the answer.
func restJSON(t *testing.T, base, path, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
