package browser_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Scripts of the latency measurement. Both windows stamp events with
// performance.timeOrigin + performance.now(): one clock of the machine,
// with sub-millisecond resolution, comparable across the two processes.
const (
	// stampPresses records in the sending window when each key press is
	// dispatched (capture phase, before the page's own handler).
	stampPresses = `window.__pressed = [];
		document.addEventListener('keydown', (e) => { if (!e.repeat) window.__pressed.push(performance.timeOrigin + performance.now()); }, true);`
	// stampArrivals records in the receiving window when the key of
	// arguments[0] lights, and when its sound is scheduled to start (the
	// synth's noteOn time plus its delay: the audio clock plays it then).
	stampArrivals = `window.__lit = []; window.__sound = [];
		const note = String(arguments[0]);
		const key = document.querySelector('#keyboard [data-note="' + note + '"]');
		let was = key.classList.contains('active');
		new MutationObserver(() => {
			const now = key.classList.contains('active');
			if (now && !was) window.__lit.push(performance.timeOrigin + performance.now());
			was = now;
		}).observe(key, { attributes: true, attributeFilter: ['class'] });
		const s = window.pianorhythm.synth, on = s.noteOn.bind(s);
		s.noteOn = (src, n, v, atMs = 0) => {
			if (n === arguments[0] && src !== 'me') window.__sound.push(performance.timeOrigin + performance.now() + Math.max(0, atMs));
			return on(src, n, v, atMs);
		};`
)

// latency is the result of measureLatency, in milliseconds.
type latency struct {
	presses         int
	bufferMs        float64 // B's playback buffer at the end
	litMedian       float64
	litP90          float64
	soundMedian     float64
	soundP90        float64
	samples, sounds []float64
}

func (l latency) String() string {
	return fmt.Sprintf("key press in window A to the key lit in window B over %d presses: median %.1f ms, p90 %.1f ms; to its sound scheduled: median %.1f ms, p90 %.1f ms (B's playback buffer for A: %.1f ms)",
		l.presses, l.litMedian, l.litP90, l.soundMedian, l.soundP90, l.bufferMs)
}

// measureLatency presses the computer key for note (Q is C4, 60, in the
// default octave) n times in a and reports how long each press took to
// light the key in b, and to its sound in b. Each press is released once
// b shows it, and the next starts once b shows the release, so the presses
// are independent.
func measureLatency(t *testing.T, a, b *session, key string, note, n int) latency {
	t.Helper()
	a.exec(nil, stampPresses)
	b.exec(nil, stampArrivals, note)
	for i := 0; i < n; i++ {
		a.keyDown(key)
		b.waitJS("remote key lit", waitShort, lit, note, true)
		a.keyUp(key)
		b.waitJS("remote key released", waitShort, lit, note, false)
		time.Sleep(30 * time.Millisecond) // spacing between presses, as a player's; not an assertion
	}
	var pressed, litAt, sound []float64
	a.exec(&pressed, `return window.__pressed`)
	b.exec(&litAt, `return window.__lit`)
	b.exec(&sound, `return window.__sound`)
	if len(pressed) != n || len(litAt) != n {
		t.Fatalf("recorded %d presses in A and %d lit keys in B, want %d each", len(pressed), len(litAt), n)
	}
	l := latency{presses: n}
	b.exec(&l.bufferMs, `return window.pianorhythm.jitter.ms()`)
	for i := range n {
		l.samples = append(l.samples, litAt[i]-pressed[i])
		if i < len(sound) {
			l.sounds = append(l.sounds, sound[i]-pressed[i])
		}
	}
	l.litMedian, l.litP90 = quantile(l.samples, 0.5), quantile(l.samples, 0.9)
	l.soundMedian, l.soundP90 = quantile(l.sounds, 0.5), quantile(l.sounds, 0.9)
	return l
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}

// writeArtifact writes body to name in $ARTIFACTS_DIR (default ./artifacts).
func writeArtifact(t *testing.T, name, body string) {
	t.Helper()
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = "artifacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
