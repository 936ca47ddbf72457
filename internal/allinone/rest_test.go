package allinone_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// call sends a JSON request to the REST API and returns the status and
// the decoded body.
func call(t *testing.T, method, url, token, body string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out, string(raw)
}

// TestRESTAsAUserMeetsIt: the REST API refuses what it would not apply,
// returns no internal field and describes itself (issue 17, item 13).
func TestRESTAsAUserMeetsIt(t *testing.T) {
	sys := startSystem(t)
	base := strings.TrimSuffix(sys.URL(), "/")

	code, auth, raw := call(t, http.MethodPost, base+"/v1/auth/register", "", `{"username":"rest-user","password":"correct-horse-9"}`)
	if code != http.StatusOK {
		t.Fatalf("register: %d %s", code, raw)
	}
	token, _ := auth["accessToken"].(string)

	t.Run("an unknown field is refused, naming it", func(t *testing.T) {
		code, body, raw := call(t, http.MethodPost, base+"/v1/rooms", token, `{"roomId":"open-by-mistake","settings":{"name":"Mistake"},"password":"secret"}`)
		if code != http.StatusBadRequest {
			t.Fatalf("POST /v1/rooms with a top-level password: %d %s, want 400", code, raw)
		}
		msg, _ := body["message"].(string)
		if !strings.Contains(msg, `unknown field "password"`) {
			t.Errorf("the refusal says %q, want it to name the unknown field", msg)
		}
		if c, _ := body["code"].(float64); c != 3 { // INVALID_ARGUMENT
			t.Errorf("the refusal has code %v, want 3 (INVALID_ARGUMENT)", body["code"])
		}
		if code, _, _ := call(t, http.MethodGet, base+"/v1/rooms/open-by-mistake", token, ""); code == http.StatusOK {
			t.Error("the refused request created the room anyway")
		}
	})

	t.Run("rooms carry no internal field", func(t *testing.T) {
		code, _, raw := call(t, http.MethodPost, base+"/v1/rooms", token, `{"roomId":"rest-room","settings":{"name":"REST room","password":"secret"}}`)
		if code != http.StatusOK {
			t.Fatalf("create a room: %d %s", code, raw)
		}
		for _, url := range []string{base + "/v1/rooms/rest-room", base + "/v1/rooms"} {
			code, _, raw := call(t, http.MethodGet, url, token, "")
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", url, code, raw)
			}
			for _, internal := range []string{"passwordHash", `"version"`, `"password"`} {
				if strings.Contains(raw, internal) {
					t.Errorf("GET %s returns %s: %s", url, internal, raw)
				}
			}
			if !strings.Contains(raw, `"hasPassword":true`) {
				t.Errorf("GET %s does not say the room has a password: %s", url, raw)
			}
		}
	})

	t.Run("the OpenAPI document describes the API", func(t *testing.T) {
		code, doc, raw := call(t, http.MethodGet, base+"/openapi.json", "", "")
		if code != http.StatusOK {
			t.Fatalf("GET /openapi.json: %d", code)
		}
		info, _ := doc["info"].(map[string]any)
		title, _ := info["title"].(string)
		version, _ := info["version"].(string)
		desc, _ := info["description"].(string)
		if title != "PianoRhythm API" || version == "" || version == "version not set" || desc == "" {
			t.Errorf("openapi.json info is title %q, version %q, description %q; want the API's own (%.200s)", title, version, desc, raw)
		}
	})
}
