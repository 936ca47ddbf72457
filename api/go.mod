module github.com/pianorhythm/server/api

go 1.26
