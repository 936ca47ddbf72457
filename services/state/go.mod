module github.com/pianorhythm/server/services/state

go 1.26
