module github.com/pianorhythm/server/bench/actors

go 1.26
