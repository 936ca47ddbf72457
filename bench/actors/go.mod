module github.com/pianorhythm/server/bench/actors

go 1.26

require github.com/pianorhythm/server/pkg v0.0.0

replace github.com/pianorhythm/server/pkg => ../../pkg
