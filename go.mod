module github.com/pianorhythm/server

go 1.26
