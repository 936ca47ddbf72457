package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/pianorhythm/server/internal/loadgen"
)

// adminDialer registers (or logs in) benchAdmin on our server, an admin
// by -admins, and returns a dialer that creates rooms of capacity
// maxPlayers with its token.
func adminDialer(ctx context.Context, s *server, maxPlayers int32) (loadgen.Dialer, error) {
	body, _ := json.Marshal(map[string]string{"username": benchAdmin, "password": "bench-admin-password"})
	var token string
	for _, path := range []string{"/v1/auth/register", "/v1/auth/login"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.http+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			continue
		}
		var r struct{ AccessToken string }
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		token = r.AccessToken
		break
	}
	if token == "" {
		return nil, fmt.Errorf("no admin token for %s", benchAdmin)
	}
	return &loadgen.WSDialer{URL: s.url, Create: true, Token: token, MaxPlayers: maxPlayers}, nil
}
