package mpp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// number is a JSON number that MPP clients may also send as a string
// ("50.30"): browsers send mouse positions and some servers channel limits
// that way. Infinite or NaN values are refused.
type number float64

func (n *number) UnmarshalJSON(b []byte) error {
	v := b
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return valueError(b, "is not a number")
		}
		v = []byte(s)
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(v)), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return valueError(b, "is not a number")
	}
	*n = number(f)
	return nil
}

// valueError names the offending JSON value (shortened): encoding/json
// does not say which field a custom type failed in.
func valueError(b []byte, what string) error {
	const maxShown = 24
	if utf8.RuneCount(b) > maxShown {
		r := []rune(string(b))
		b = append([]byte(string(r[:maxShown])), "..."...)
	}
	return fmt.Errorf("%s %s", b, what)
}

// flag is a JSON boolean; MPP clients also send settings as the strings
// "true"/"false", and a note stop as s: 1, so numbers count as their
// truth (0 false).
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", `"true"`:
		*f = true
		return nil
	case "false", `"false"`, "null":
		*f = false
		return nil
	}
	var n number
	if err := n.UnmarshalJSON(b); err != nil || (len(b) > 0 && b[0] == '"') {
		return valueError(b, "is not true or false")
	}
	*f = n != 0
	return nil
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// U+2028 and U+2029 are escaped so the result is also valid JavaScript.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// optNumber is a number that may be absent (set false), without the
// allocation of a pointer.
type optNumber struct {
	v   float64
	set bool
}

func (o *optNumber) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*o = optNumber{}
		return nil
	}
	var n number
	if err := n.UnmarshalJSON(b); err != nil {
		return err
	}
	*o = optNumber{v: float64(n), set: true}
	return nil
}

// optFlag is a flag that may be absent.
type optFlag struct{ v, set bool }

func (o *optFlag) UnmarshalJSON(b []byte) error {
	var f flag
	if err := f.UnmarshalJSON(b); err != nil {
		return err
	}
	*o = optFlag{v: bool(f), set: string(b) != "null"}
	return nil
}

// key is an MPP key name, looked up as it is read (midi 0: absent). A
// name that is not a key is kept in bad, so the error can say which note.
type key struct {
	midi uint32
	bad  string
}

func (k *key) UnmarshalJSON(b []byte) error {
	*k = key{}
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		k.bad = valueError(b, "is not a key name").Error()
		return nil
	}
	name := b[1 : len(b)-1]
	if bytes.IndexByte(name, '\\') >= 0 { // escaped: decode properly
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			k.bad = valueError(b, "is not a key name").Error()
			return nil
		}
		name = []byte(s)
	}
	n, ok := keyNumbers[string(name)]
	if !ok {
		k.bad = fmt.Sprintf("%q is not a key of the MPP keyboard (a-1 to c7)", shortName(string(name)))
		return nil
	}
	k.midi = n
	return nil
}
