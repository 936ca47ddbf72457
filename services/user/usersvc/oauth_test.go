package usersvc_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/user/usersvc"
)

// fakeDiscord is an OAuth2 provider on loopback: /authorize redirects back
// with a code for the user chosen by the test, /token trades the code for
// an access token, /users/@me says who the token belongs to.
type fakeDiscord struct {
	*httptest.Server
	mu     sync.Mutex
	next   map[string]string // what /authorize hands out: user fields
	codes  map[string]map[string]string
	tokens map[string]map[string]string
	n      int
}

func newFakeDiscord(t *testing.T) *fakeDiscord {
	f := &fakeDiscord{codes: map[string]map[string]string{}, tokens: map[string]map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "cid" || q.Get("response_type") != "code" || q.Get("state") == "" {
			http.Error(w, "bad authorize request", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.n++
		code := "code-" + string(rune('a'+f.n))
		f.codes[code] = f.next
		f.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		bq := back.Query()
		bq.Set("code", code)
		bq.Set("state", q.Get("state"))
		back.RawQuery = bq.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if r.ParseForm() != nil || r.PostForm.Get("client_id") != "cid" || r.PostForm.Get("client_secret") != "secret" || r.PostForm.Get("grant_type") != "authorization_code" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		user, ok := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code")) // codes are single use
		tok := "tok-" + r.PostForm.Get("code")
		f.tokens[tok] = user
		f.mu.Unlock()
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 600})
	})
	mux.HandleFunc("GET /users/@me", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		user, ok := f.tokens[r.Header.Get("Authorization")[len("Bearer "):]]
		f.mu.Unlock()
		if !ok {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(user)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeDiscord) as(user map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next = user
}

// login runs the browser's part of the flow: start, follow the provider's
// redirect, call the callback with what came back.
func oauthLogin(t *testing.T, e *env, f *fakeDiscord, token string) (int, *pb.AuthResponse, apiError) {
	t.Helper()
	var start pb.OAuthStartResponse
	e.must("GET", "/v1/auth/oauth/discord/start", token, nil, &start)
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer browser.CloseIdleConnections()
	resp, err := browser.Get(start.GetUrl())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize = %d", resp.StatusCode)
	}
	back, _ := url.Parse(resp.Header.Get("Location"))
	if back.Query().Get("state") != start.GetState() {
		t.Fatal("state changed on the way")
	}
	var out pb.AuthResponse
	code, ae := e.call("GET", back.Path+"?"+back.RawQuery, "", nil, &out)
	return code, &out, ae
}

func TestOAuthDiscordCodeFlow(t *testing.T) {
	f := newFakeDiscord(t)
	e := newEnv(t, usersvc.Config{Discord: usersvc.DiscordConfig{
		ClientID: "cid", ClientSecret: "secret",
		AuthURL: f.URL + "/authorize", TokenURL: f.URL + "/token", UserInfoURL: f.URL + "/users/@me",
		RedirectURL: "http://pianorhythm.test/v1/auth/oauth/discord/callback",
	}})

	// First login creates an account named after the Discord user.
	f.as(map[string]string{"id": "1001", "username": "wolfgang", "global_name": "Wolfgang A."})
	code, first, ae := oauthLogin(t, e, f, "")
	if code != http.StatusOK {
		t.Fatalf("callback = %d %v", code, ae)
	}
	u := first.GetUser()
	if u.GetDiscordId() != "1001" || u.GetDisplayName() != "Wolfgang A." || u.GetUsername() != "" || u.GetGuest() {
		t.Fatalf("created = %v", u)
	}
	var me pb.User
	e.must("GET", "/v1/users/me", first.GetAccessToken(), nil, &me)

	// The next login finds the same account.
	_, second, _ := oauthLogin(t, e, f, "")
	if second.GetUser().GetId() != u.GetId() {
		t.Fatalf("second login = %v, want %s", second.GetUser(), u.GetId())
	}

	// A logged-in member links Discord to their account.
	m := e.register("clara")
	f.as(map[string]string{"id": "2002", "username": "clara_s"})
	code, linked, ae := oauthLogin(t, e, f, m.GetAccessToken())
	if code != http.StatusOK || linked.GetUser().GetId() != m.GetUser().GetId() || linked.GetUser().GetDiscordId() != "2002" {
		t.Fatalf("link = %d %v %v", code, linked.GetUser(), ae)
	}
	// Linking a Discord account that belongs to someone else is refused.
	f.as(map[string]string{"id": "1001", "username": "wolfgang"})
	if code, _, _ := oauthLogin(t, e, f, m.GetAccessToken()); code != http.StatusConflict {
		t.Fatalf("link taken = %d, want 409", code)
	}

	// A code the provider does not know fails the login...
	var start pb.OAuthStartResponse
	e.must("GET", "/v1/auth/oauth/discord/start", "", nil, &start)
	if code, _ := e.call("GET", "/v1/auth/oauth/discord/callback?code=nope&state="+url.QueryEscape(start.GetState()), "", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("bad code = %d, want 401", code)
	}
	// ...and spends the state: states are single use.
	if code, _ := e.call("GET", "/v1/auth/oauth/discord/callback?code=code-x&state="+url.QueryEscape(start.GetState()), "", nil, nil); code != http.StatusBadRequest {
		t.Fatalf("replayed state = %d, want 400", code)
	}
	// A state this service did not sign (here: an access token) is refused.
	if code, _ := e.call("GET", "/v1/auth/oauth/discord/callback?code=code-x&state="+url.QueryEscape(m.GetAccessToken()), "", nil, nil); code != http.StatusBadRequest {
		t.Fatalf("foreign state = %d, want 400", code)
	}
	// Unknown providers are refused.
	if code, _ := e.call("GET", "/v1/auth/oauth/github/start", "", nil, nil); code != http.StatusBadRequest {
		t.Fatalf("unknown provider = %d, want 400", code)
	}
}

func TestOAuthDisabled(t *testing.T) {
	e := newEnv(t, usersvc.Config{})
	if code, _ := e.call("GET", "/v1/auth/oauth/discord/start", "", nil, nil); code != http.StatusBadRequest {
		t.Fatalf("start without config = %d, want 400 (failed precondition)", code)
	}
}
