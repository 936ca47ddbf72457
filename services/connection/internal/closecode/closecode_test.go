package closecode

import (
	"errors"
	"fmt"
	"testing"
)

func TestCatalogue(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		code int
	}{
		{"too big", TooBig, 1009},
		{"server closing", ServerClosing, 4000},
		{"quota", Quota, 4002},
		{"slow", Slow, 4003},
		{"timeout", Timeout, 4004},
		{"banned", Banned, 4008},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if int(tt.err.Code) != tt.code {
				t.Fatalf("code = %d, want %d", tt.err.Code, tt.code)
			}
			wrapped := fmt.Errorf("handle notes: %w", tt.err.WithReason("other text"))
			if !errors.Is(wrapped, tt.err) {
				t.Fatalf("errors.Is(%v, %v) = false", wrapped, tt.err)
			}
			if got := From(wrapped); got.Code != tt.err.Code || got.Reason != "other text" {
				t.Fatalf("From = %+v", got)
			}
			if got := Of(tt.code); got != tt.err {
				t.Fatalf("Of(%d) = %+v", tt.code, got)
			}
		})
	}
	if From(nil) != ServerClosing || From(errors.New("eof")) != Normal {
		t.Fatal("From of non-close errors")
	}
	if errors.Is(Slow, Quota) {
		t.Fatal("different codes must not match")
	}
	if Of(4321).Code != 4321 {
		t.Fatal("Of keeps unknown codes")
	}
}
