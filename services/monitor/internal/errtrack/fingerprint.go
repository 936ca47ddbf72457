package errtrack

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// frames is how many top stack frames take part in a fingerprint.
const frames = 3

var (
	uuidRe  = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	hexRe   = regexp.MustCompile(`(?i)\b0x[0-9a-f]+\b`)
	longHex = regexp.MustCompile(`(?i)\b[0-9a-f]*[0-9][0-9a-f]*\b`)
	idRe    = regexp.MustCompile(`\b[A-Za-z_-]*\d[\w-]*\b`)
	argsRe  = regexp.MustCompile(`\([^()]*\)$`)
)

// Normalize replaces what varies between occurrences of one error (ids,
// numbers, addresses) with placeholders, so "room r-123 not found" and
// "room r-9 not found" read the same.
func Normalize(message string) string {
	s := uuidRe.ReplaceAllString(message, "<id>")
	s = hexRe.ReplaceAllString(s, "<hex>")
	// Any word holding a digit is an id or a number: "r-123", "42", "u7f".
	s = longHex.ReplaceAllString(s, "<n>")
	s = idRe.ReplaceAllString(s, "<id>")
	return s
}

// TopFrames returns the function names of the first n frames of a Go stack
// (as from runtime/debug.Stack) below the panic, if any, skipping the
// runtime's own frames. Arguments and line numbers are dropped: they
// change between builds and calls while the error stays the same.
func TopFrames(stack string, n int) []string {
	lines := strings.Split(stack, "\n")
	// Frames above the panic are the recovery code, the same for every
	// panic; start below it.
	start := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			start = i + 1
		}
	}
	var out []string
	for _, l := range lines[start:] {
		if l == "" || strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "goroutine ") ||
			strings.HasPrefix(l, "created by ") {
			continue
		}
		fn := argsRe.ReplaceAllString(strings.TrimSpace(l), "")
		if strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "runtime/debug.") || fn == "panic" {
			continue
		}
		out = append(out, fn)
		if len(out) == n {
			break
		}
	}
	return out
}

// Fingerprint identifies a group: a hash of the service, the normalized
// message and the top stack frames.
func Fingerprint(service, message, stack string) string {
	h := sha256.New()
	h.Write([]byte(service))
	h.Write([]byte{0})
	h.Write([]byte(Normalize(message)))
	for _, f := range TopFrames(stack, frames) {
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
