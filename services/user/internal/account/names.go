package account

import (
	"fmt"
	"math/rand/v2"
)

var (
	adjectives = []string{"Swift", "Gentle", "Lively", "Quiet", "Bright", "Mellow", "Bold", "Dreamy", "Merry", "Calm", "Brisk", "Sunny", "Jazzy", "Nimble", "Silver", "Golden"}
	nouns      = []string{"Pianist", "Sonata", "Etude", "Nocturne", "Prelude", "Waltz", "Chord", "Octave", "Melody", "Rondo", "Fugue", "Ballad", "Minuet", "Scherzo", "Cadence", "Tempo"}
	colors     = []string{"#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#aaffc3", "#808000", "#ffd8b1"}
)

// GuestName returns a generated display name such as "Swift Pianist 4821".
// Uniqueness is not required of display names; the number keeps
// collisions rare enough that people can tell guests apart.
func GuestName() string {
	return fmt.Sprintf("%s %s %04d", adjectives[rand.IntN(len(adjectives))], nouns[rand.IntN(len(nouns))], rand.IntN(10000))
}

// RandomColor returns a pleasant default color for a new user.
func RandomColor() string { return colors[rand.IntN(len(colors))] }
