module github.com/pianorhythm/server/services/room

go 1.26
