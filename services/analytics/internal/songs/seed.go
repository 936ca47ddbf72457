package songs

import pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"

// Seed is the catalogue a new deployment starts with: public-domain piano
// pieces, with the note count and length of a typical performance.
func Seed() []*pb.Song {
	return []*pb.Song{
		{Id: "fur-elise", Title: "Für Elise", Author: "Ludwig van Beethoven", Tags: []string{"classical", "beginner"}, NoteCount: 1100, DurationMs: 175000},
		{Id: "gymnopedie-1", Title: "Gymnopédie No. 1", Author: "Erik Satie", Tags: []string{"classical", "slow"}, NoteCount: 640, DurationMs: 200000},
		{Id: "clair-de-lune", Title: "Clair de lune", Author: "Claude Debussy", Tags: []string{"classical", "impressionist"}, NoteCount: 1900, DurationMs: 300000},
		{Id: "prelude-c-major", Title: "Prelude in C major, BWV 846", Author: "Johann Sebastian Bach", Tags: []string{"classical", "baroque"}, NoteCount: 560, DurationMs: 140000},
		{Id: "maple-leaf-rag", Title: "Maple Leaf Rag", Author: "Scott Joplin", Tags: []string{"ragtime"}, NoteCount: 2600, DurationMs: 190000},
	}
}
