// Package readme_test checks the README as a reader on a fresh clone meets
// it: every terminal example of its "Try it" section runs, as written,
// against an all-in-one started by the test, and every relative link
// resolves to a file of the repository.
//
// It needs bash and curl; without them it skips, unless CI is set.
package readme_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pianorhythm/server/internal/allinone"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

const readmePath = "../../README.md"

// section returns the text of the README section whose heading contains
// title, up to the next heading of the same or a higher level.
func section(t *testing.T, readme, title string) string {
	t.Helper()
	lines := strings.Split(readme, "\n")
	start, level := -1, 0
	for i, l := range lines {
		h := len(l) - len(strings.TrimLeft(l, "#"))
		if h == 0 || !strings.HasPrefix(l[h:], " ") {
			continue
		}
		if start < 0 && strings.Contains(l, title) {
			start, level = i, h
			continue
		}
		if start >= 0 && h <= level {
			return strings.Join(lines[start:i], "\n")
		}
	}
	if start < 0 {
		t.Fatalf("the README has no section %q", title)
	}
	return strings.Join(lines[start:], "\n")
}

// shellBlocks returns the ```sh blocks of text.
func shellBlocks(text string) []string {
	var out []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed for the README check", tool)
			}
			t.Skipf("%s is needed for the README check", tool)
		}
	}
}

// TestTryItRunsAsWritten runs the "Try it from a terminal" examples, one
// block as one bash script (a variable set by one command is used by the
// next, as in a reader's terminal), with -e and pipefail: a command that
// fails (curl -f: an HTTP error) fails the test. The address
// localhost:8080 is the test's all-in-one.
func TestTryItRunsAsWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("the README check starts the whole system")
	}
	need(t, "bash", "curl")
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	blocks := shellBlocks(section(t, string(raw), "Try it"))
	if len(blocks) == 0 {
		t.Fatal(`the README's "Try it" section has no sh block`)
	}

	any := "127.0.0.1:0"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sys, err := allinone.Start(ctx, allinone.Config{
		HTTPAddr: any, StateAddr: any, UserAddr: any, RoomAddr: any,
		ConnectionAddr: any, AnalyticsAddr: any, MonitorAddr: any,
		RedisURL:  os.Getenv("REDIS_URL"),
		MongoURI:  os.Getenv("MONGODB_URI"),
		Database:  "readme_" + strconv.FormatInt(time.Now().UnixNano(), 36),
		DataDir:   t.TempDir(),
		KeyPrefix: storetest.Prefix(t) + "readme:", // before Start: deleted after Close
	})
	if err != nil {
		t.Fatalf("start the system: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := sys.Close(ctx); err != nil {
			t.Errorf("close the system: %v", err)
		}
	})
	addr := strings.TrimSuffix(strings.TrimPrefix(sys.URL(), "http://"), "/")
	waitReady(t, "http://"+addr+"/readyz")

	for i, block := range blocks {
		script := strings.ReplaceAll(block, "localhost:8080", addr)
		cmd := exec.Command("bash", "-euo", "pipefail", "-x", "-c", script)
		cmd.Dir = t.TempDir() // what a command writes stays out of the repository
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("block %d of the README's Try it section fails: %v\n%s", i+1, err, out.String())
		}
		t.Logf("block %d:\n%s", i+1, out.String())
	}
}

// waitReady polls /readyz with curl until it answers 200: the first
// command of the README is run once the system is ready, as a reader
// would after the program printed its URL.
func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for exec.Command("curl", "-sf", "-o", "/dev/null", url).Run() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200", url)
		}
		time.Sleep(100 * time.Millisecond) // polling an external program: no clock to inject
	}
}

// TestLinksResolveInTheRepository: a reader of a fresh clone can follow
// every relative link of the README and of docs/.
func TestLinksResolveInTheRepository(t *testing.T) {
	files := []string{readmePath}
	docs, _ := filepath.Glob("../../docs/*.md")
	files = append(files, docs...)
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(raw), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", f, target)
			}
		}
		if strings.Contains(string(raw), "../shared/") {
			t.Errorf("%s refers to ../shared/, outside the repository", f)
		}
	}
}
