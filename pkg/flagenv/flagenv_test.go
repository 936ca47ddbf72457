package flagenv

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestEnvDefaultsAndFlagsWin(t *testing.T) {
	t.Setenv("FE_ADDR", ":9000")
	t.Setenv("FE_WAIT", "3s")
	s := New("test")
	addr := s.String("addr", "FE_ADDR", ":8080", "address")
	wait := s.Duration("wait", "FE_WAIT", time.Second, "wait")
	other := s.String("other", "FE_OTHER_UNSET", "dflt", "other")
	if err := s.Parse([]string{"-wait", "5s"}); err != nil {
		t.Fatal(err)
	}
	if *addr != ":9000" {
		t.Errorf("addr = %q, want the variable's :9000", *addr)
	}
	if *wait != 5*time.Second {
		t.Errorf("wait = %v, want the flag's 5s", *wait)
	}
	if *other != "dflt" {
		t.Errorf("other = %q, want the default", *other)
	}
}

func TestMalformedVariableIsAnError(t *testing.T) {
	t.Setenv("FE_N", "many")
	s := New("test")
	s.Int("n", "FE_N", 1, "n")
	if err := s.Parse(nil); err == nil || !strings.Contains(err.Error(), "FE_N") {
		t.Fatalf("Parse() = %v, want an error naming FE_N", err)
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	t.Setenv("FE_REDIS", "redis://user:hunter2@localhost:6379/0")
	s := New("test")
	s.String("redis", "FE_REDIS", "", "redis")
	s.Secret("client-secret", "FE_SECRET", "s3cr3t", "secret")
	s.String("empty", "FE_EMPTY", "", "empty")
	if err := s.Parse(nil); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	s.Print(&b)
	out := b.String()
	for _, leaked := range []string{"hunter2", "s3cr3t"} {
		if strings.Contains(out, leaked) {
			t.Errorf("Print leaked %q:\n%s", leaked, out)
		}
	}
	if !strings.Contains(out, "redis://user:****@localhost:6379/0") {
		t.Errorf("Print did not show the masked URL:\n%s", out)
	}
}
